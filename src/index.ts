// The shipgate library: everything the CLI does, usable on its own.
export { type ErrorCode, exitCodeFor, ShipgateError } from "./errors.js";
export { type BuildOptions, buildImage } from "./oci/build.js";
export { type CopyOptions, type CopyProgress, type CopyResult, copyImage } from "./oci/copy.js";
export { digestOf, VerifyingStream, verifyBytes } from "./oci/digest.js";
export { hostPlatform, type InspectResult, inspectImage, readConfig, resolveImage } from "./oci/inspect.js";
export * from "./oci/manifest.js";
export { MediaType } from "./oci/mediatypes.js";
export { formatReference, parseReference, parseRepository, type Reference } from "./oci/reference.js";
export { cosignTags, fallbackTag, isDigestTag } from "./oci/referrers.js";
export { RegistryClient } from "./oci/registry/client.js";
export {
  type Credentials,
  eraseCredentials,
  resolveCredentials,
  storeCredentials,
} from "./oci/registry/credentials.js";
export type { RegistryOptions } from "./oci/registry/http.js";
export { defaultRetryPolicy, type RetryPolicy } from "./oci/registry/retry.js";
export { applyRemoval, planRemoval, type RemovalPlan } from "./oci/remove.js";
export { DockerArchive } from "./oci/transports/archive.js";
export { OciLayout } from "./oci/transports/layout.js";
export { type Location, parseLocation, storeDirectory } from "./oci/transports/location.js";
export { openDest, openSource } from "./oci/transports/open.js";
export { closeClients, RegistryRepository } from "./oci/transports/registry.js";
export type { ImageDest, ImageSource, ManifestBlob } from "./oci/transports/types.js";
export { repositoryUsage, type UsageReport } from "./oci/usage.js";

import type { CopyOptions, CopyResult } from "./oci/copy.js";
import { copyImage } from "./oci/copy.js";
import { parseLocation } from "./oci/transports/location.js";
import { type OpenOptions, openDest, openSource, referenceOf } from "./oci/transports/open.js";

/**
 * Copies an image between any two locations, as `shipgate copy` does:
 * `await copy("oci:./layout:1.0", "localhost:5000/app:1.0")`.
 */
export async function copy(
  source: string,
  destination: string,
  options: CopyOptions & OpenOptions = {},
): Promise<CopyResult> {
  const from = parseLocation(source);
  const to = parseLocation(destination);
  const src = await openSource(from, options);
  const dst = await openDest(to, options);
  const tag =
    to.transport === "docker" ? (to.reference.digest ? undefined : to.reference.tag) : referenceOf(to);
  return copyImage(src, referenceOf(from), dst, tag, options);
}

export { notifyAll } from "./notify/send.js";
// Policy, promotion, approvals, notifications, audit.
export { configPath, loadConfig, parseConfig } from "./policy/config.js";
export { ConfigInvalidError } from "./policy/config-errors.js";
export type { Config } from "./policy/config-schema.js";
// Retention: plans and applies, on registries and on the embedded store.
export { type RetentionRules, retentionRulesSchema } from "./policy/retention-rules.js";
export { approve, listApprovals, reject, requestApproval } from "./promote/approvals.js";
export { exitCodeOf, type PromotionReport, promote } from "./promote/engine.js";
export { escalateDue } from "./promote/escalation.js";
export { type BuildInfo, parseBuildInfo } from "./publish/build-info.js";
// CI/CD: the one-step pipeline.
export { type PublishOptions, type PublishResult, publish } from "./publish/pipeline.js";
export { type ApplyReport, applyPlan, comparePlans, type DeletionEvent } from "./retention/apply.js";
export {
  collectDeployed,
  type DeployedRef,
  deployedFromFile,
  deployedFromKubernetes,
} from "./retention/deployed.js";
export { ecrPolicySchema, judgeByEcrPolicy, parseEcrPolicy } from "./retention/ecr-policy.js";
export { type RepositoryReader, readInventory, registryReader } from "./retention/inventory.js";
export { layoutReader, layoutWriter } from "./retention/layout.js";
export type { PlanStep, RetentionPlan } from "./retention/model.js";
export { type PlanOptions, type PromotionTarget, planRetention } from "./retention/plan.js";
export { compileRules, describeRules, judgeTags } from "./retention/rules.js";
export { attachSbom, getAttachedSboms } from "./sbom/attach.js";
export { diffSboms } from "./sbom/diff.js";
export type { WriterOptions } from "./sbom/formats/common.js";
export { cycloneDxDocument, toCycloneDx } from "./sbom/formats/cyclonedx.js";
export { readSbom, type SbomDocumentFormat, sniffSbomFormat } from "./sbom/formats/read.js";
export { spdxDocument, toSpdx } from "./sbom/formats/spdx.js";
// SBOMs: generation, the two formats, reading other tools' documents, attachments.
export { generateSboms, parseSbomTarget } from "./sbom/generate.js";
export { deniedPackages, licenseHistogram } from "./sbom/licenses.js";
export type { Package, Sbom } from "./sbom/model.js";
// Signing, attestations, provenance (cosign's formats).
export * from "./sign/index.js";
export { listAudit, recordAudit, verifyAudit } from "./store/audit.js";
export { openSqlite } from "./store/sqlite.js";
export { openStore } from "./store/store.js";
export type { VulnDb } from "./vuln/db/store.js";
export {
  dbStatus,
  type Finding,
  failOnGate,
  importPath,
  loadIgnoreFile,
  openResultsStore,
  openVulnDb,
  parseOpenVex,
  readScannerReport,
  rescanAll,
  type ScanOptions,
  type ScanReport,
  type SeverityLevel,
  scanSbom,
  summariseBySeverity,
  toCycloneDxVex,
  toSarif,
  updateDb,
} from "./vuln/index.js";
// Vulnerabilities: the OSV database, the comparators, the matcher and its reports.
export { comparatorFor, supportedEcosystems, type VersionComparator } from "./vuln/versions/index.js";
