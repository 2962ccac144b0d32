// The shape of the bad-input table: per export, calls that are wrong in one way each and the
// KilnError message they must raise (sync or as a rejected promise), or why the export takes no input.
export interface Case {
  call: () => unknown;
  msg: RegExp;
}
export type Entry = Case[] | { none: string };
