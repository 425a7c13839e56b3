import { readFile, writeFile } from "node:fs/promises";
import { ShipgateError } from "../errors.js";
import type { RetentionPlan } from "./model.js";

/** What `clean --plan-out` writes and `clean --apply --plan` reads: one plan per repository. */
export interface PlanFile {
  version: 1;
  plans: RetentionPlan[];
}

export async function writePlanFile(path: string, plans: RetentionPlan[]): Promise<void> {
  const file: PlanFile = { version: 1, plans };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

export async function readPlanFile(path: string): Promise<PlanFile> {
  try {
    const file = JSON.parse(await readFile(path, "utf8")) as PlanFile;
    if (file.version !== 1 || !Array.isArray(file.plans))
      throw new Error("not a shipgate clean plan (version 1)");
    return file;
  } catch (error) {
    throw new ShipgateError("USAGE", `cannot read the plan ${path}: ${(error as Error).message}`, {
      hint: "write one with shipgate clean TARGET --plan-out FILE",
    });
  }
}
