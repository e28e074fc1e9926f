// go-dqlite's SQLite threading-mode switch, answered for this engine. go-dqlite puts the process's
// SQLite in single-thread mode at start-up (its C engine runs on one thread) and offers
// ConfigMultiThread for programs that also use SQLite from other goroutines. Here SQLite is a
// WebAssembly instance private to dqlite-ts, run only by the JavaScript thread that loaded it:
// no one else can share it, so there is no mode to choose and both calls do nothing.

/** go-dqlite's ConfigMultiThread: nothing to do (our SQLite is private to one JavaScript thread). */
export function configMultiThread(): void {}

/** go-dqlite's single-thread set-up: nothing to do, for the same reason. */
export function configSingleThread(): void {}
