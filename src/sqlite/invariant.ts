// Invariants: conditions that can only fail through a bug. They crash loudly. Callers test
// the condition themselves (`if (!ok) invariant("...")`) so the message costs nothing on the
// hot paths where it holds.
import { AssertionError } from "node:assert";

export function invariant(message: string): never {
  throw new AssertionError({ message });
}
