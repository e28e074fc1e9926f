/** Entry point of `dqlite`; returns the process exit code. */
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("dqlite: not yet implemented\n");
  return 2;
}
