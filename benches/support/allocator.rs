//! The allocator the `kms-s3-doctor` binary runs with, so that a bench
//! measures what the command costs: the judge allocates small strings and
//! vectors by the hundred per decision, and the allocator's price for them
//! is part of that cost.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
