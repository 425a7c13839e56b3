import { languageCatalogers } from "./languages.js";
import { osCatalogers } from "./os.js";
import type { Cataloger } from "./types.js";

/** Every cataloguer shipgate has, in the order their packages are reported. */
export function defaultCatalogers(): Cataloger[] {
  return [...osCatalogers(), ...languageCatalogers()];
}
