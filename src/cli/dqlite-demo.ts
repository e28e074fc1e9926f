/** Entry point of `dqlite-demo`; returns the process exit code. */
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("dqlite-demo: not yet implemented\n");
  return 2;
}
