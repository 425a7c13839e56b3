/**
 * Package names as the index stores them, so a lookup from an SBOM finds a
 * record however each side spelled the name: PyPI names compare per PEP 503
 * (`PyYAML`, `pyyaml`, `py_yaml` are one project); other ecosystems'
 * names are exact.
 */
export function indexName(baseEcosystem: string, name: string): string {
  if (baseEcosystem === "PyPI") return name.toLowerCase().replace(/[-_.]+/g, "-");
  return name;
}
