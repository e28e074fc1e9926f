// The App's own errors: a data directory or options that cannot work (go-dqlite's texts).
import { DqliteError } from "../client/index.js";

/** The App refused to start or to act: bad options, inconsistent files, nobody to hand over to. */
export class AppError extends DqliteError {
  override name = "AppError";
}
