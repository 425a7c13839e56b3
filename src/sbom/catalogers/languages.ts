import { composerCataloger } from "./composer.js";
import { dotnetCataloger } from "./dotnet.js";
import { gemCataloger } from "./gem.js";
import { goCataloger } from "./go.js";
import { javaCataloger } from "./java.js";
import { npmCataloger } from "./npm.js";
import { pythonCataloger } from "./python.js";
import { rustCataloger } from "./rust.js";
import type { Cataloger } from "./types.js";

/** Language ecosystems: npm, Python, Go, Java, Ruby, Rust, PHP, .NET. */
export function languageCatalogers(): Cataloger[] {
  return [
    npmCataloger as Cataloger,
    pythonCataloger as Cataloger,
    goCataloger as Cataloger,
    javaCataloger as Cataloger,
    gemCataloger as Cataloger,
    rustCataloger as Cataloger,
    composerCataloger as Cataloger,
    dotnetCataloger as Cataloger,
  ];
}
