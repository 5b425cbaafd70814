//! A clock for criterion on a shared machine: the CPU time the benchmarking
//! thread ran (`CLOCK_THREAD_CPUTIME_ID`), rather than the wall-clock time,
//! which on two cores shared by several builds measures mostly the wait for
//! a core. Chosen with `BENCH_CLOCK=cpu`; the default stays criterion's wall
//! clock.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// Whether the environment asks for the CPU-time clock.
pub fn wanted() -> bool {
    std::env::var("BENCH_CLOCK").is_ok_and(|clock| clock == "cpu")
}

/// Nanoseconds this thread has run on a CPU.
fn ran() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanoseconds = u64::try_from(now.tv_nsec).unwrap_or(0);
    seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(nanoseconds)
}

pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        ran()
    }

    fn end(&self, started: u64) -> u64 {
        ran().saturating_sub(started)
    }

    fn add(&self, one: &u64, other: &u64) -> u64 {
        one + other
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns (cpu)")
        } else if typical < 1e6 {
            (1e-3, "µs (cpu)")
        } else if typical < 1e9 {
            (1e-6, "ms (cpu)")
        } else {
            (1e-9, "s (cpu)")
        };
        values.iter_mut().for_each(|value| *value *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (count, unit) = match *throughput {
            Throughput::Elements(count) => (count, "elem/s (cpu)"),
            Throughput::Bytes(count) | Throughput::BytesDecimal(count) => (count, "B/s (cpu)"),
        };
        values
            .iter_mut()
            .for_each(|value| *value = count as f64 * 1e9 / *value);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
