import { apkCataloger } from "./apk.js";
import { dpkgCataloger } from "./dpkg.js";
import { rpmCataloger } from "./rpm.js";
import type { Cataloger } from "./types.js";

/** Operating-system package databases: dpkg, apk, rpm. */
export function osCatalogers(): Cataloger[] {
  return [dpkgCataloger as Cataloger, apkCataloger as Cataloger, rpmCataloger as Cataloger];
}
