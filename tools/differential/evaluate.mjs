// The second evaluator of kms-s3-doctor's differential test
// (tests/it/differential.rs). Reads one request per line on standard input,
// `{"id": ..., "simulation": {...}}` where `simulation` is the input of
// @cloud-copilot/iam-simulate's `runSimulation` (request, identity policies,
// SCPs, RCPs, resource policy, permissions boundary), and writes one line
// per request, in order: `{"id": ..., "result": "Allowed" |
// "ExplicitlyDenied" | "ImplicitlyDenied"}`, or `{"id": ..., "error": "..."}`
// when the simulator refuses the input.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (line.trim() === '') continue
  let id = null
  try {
    const input = JSON.parse(line)
    id = input.id
    const response = await runSimulation(input.simulation, {})
    if (response.resultType === 'error') {
      process.stdout.write(JSON.stringify({ id, error: JSON.stringify(response.errors) }) + '\n')
    } else {
      process.stdout.write(JSON.stringify({ id, result: response.overallResult }) + '\n')
    }
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, error: String(error) }) + '\n')
  }
}
