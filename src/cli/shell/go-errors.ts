// Go's texts for file-system errors (os.PathError: "<op> <path>: <errno text>"), so that the
// shell's messages read like go-dqlite's.

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EEXIST: "file exists",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
};

/** An Error whose message is Go's os.PathError text for a failed file operation. */
export function goPathError(op: string, path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  const text =
    (code && ERRNO_TEXT[code]) ?? (error instanceof Error ? error.message : String(error));
  return new Error(`${op} ${path}: ${text}`, { cause: error });
}
