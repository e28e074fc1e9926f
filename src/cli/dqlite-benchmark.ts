/** Entry point of `dqlite-benchmark`; returns the process exit code. */
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("dqlite-benchmark: not yet implemented\n");
  return 2;
}
