/** A `!reference [job, key, …]` that is still to be resolved. */
export class Reference {
  constructor(readonly path: readonly string[]) {}
}
