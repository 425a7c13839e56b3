/**
 * The vulnerability scanner behind the vulnerabilities gate. Until the scan
 * module's scanSbom/openVulnDb are wired here, there is none and the gate
 * reports an error rather than passing silently.
 */
import type { VulnScanner } from "./gates/types.js";

export function vulnerabilityScanner(): VulnScanner | undefined {
  return undefined;
}
