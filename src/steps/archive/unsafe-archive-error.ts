/** An archive entry would land outside the directory it is extracted into. Its own file: the archivers load only when a job has artifacts. */
export class UnsafeArchiveError extends Error {
  override readonly name = "UnsafeArchiveError";
}
