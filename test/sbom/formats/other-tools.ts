/**
 * Small SBOMs in the shapes syft and Trivy write (CycloneDX and SPDX JSON),
 * written for these tests from the tools' documented output conventions:
 * syft's `syft:` properties and `package-id` bom-refs, Trivy's UUID bom-refs,
 * `aquasecurity:trivy:` properties and `Key: value` SPDX annotations. The
 * tests validate each against its official schema before reading it.
 */
const LAYER = "sha256:ebdcc3a9b173851e2d137ff2219811dfeeff3bc58f233779676a1b5536cbb7ed";
const IMAGE = "sha256:04768ef3e2f30b0174eb7bc21326f4357276a9ca1ebd91765ca09d836dd327c0";

export const syftCycloneDx = {
  $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
  bomFormat: "CycloneDX",
  specVersion: "1.6",
  serialNumber: "urn:uuid:0b1f3a52-6f2f-4d4b-9d0b-3f3c1c1e2a10",
  version: 1,
  metadata: {
    timestamp: "2024-05-02T10:11:12Z",
    tools: { components: [{ type: "application", author: "anchore", name: "syft", version: "1.4.1" }] },
    component: { "bom-ref": "a1b2c3d4e5f60718", type: "container", name: "debian", version: IMAGE },
  },
  components: [
    {
      "bom-ref": "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12&package-id=5e3cd1b8c6b3a3f6",
      type: "library",
      publisher: "Debian Adduser Developers <adduser@packages.debian.org>",
      name: "adduser",
      version: "3.134",
      licenses: [{ license: { id: "GPL-2.0-or-later" } }],
      cpe: "cpe:2.3:a:adduser:adduser:3.134:*:*:*:*:*:*:*",
      purl: "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12",
      properties: [
        { name: "syft:package:foundBy", value: "dpkg-db-cataloger" },
        { name: "syft:package:type", value: "deb" },
        { name: "syft:package:metadataType", value: "dpkg-db-entry" },
        { name: "syft:location:0:layerID", value: LAYER },
        { name: "syft:location:0:path", value: "/usr/share/doc/adduser/copyright" },
        { name: "syft:location:1:layerID", value: LAYER },
        { name: "syft:location:1:path", value: "/var/lib/dpkg/status" },
        { name: "syft:metadata:installedSize", value: "849" },
      ],
    },
    {
      "bom-ref":
        "pkg:deb/debian/passwd@1:4.13+dfsg1-1+deb12u2?arch=amd64&distro=debian-12&upstream=shadow&package-id=7d1e4c2b0a9f8e6d",
      type: "library",
      publisher: "Shadow package maintainers <pkg-shadow-devel@lists.alioth.debian.org>",
      name: "passwd",
      version: "1:4.13+dfsg1-1+deb12u2",
      licenses: [{ license: { id: "GPL-2.0-only" } }, { license: { name: "BSD-3-clause-Regents" } }],
      purl: "pkg:deb/debian/passwd@1:4.13+dfsg1-1+deb12u2?arch=amd64&distro=debian-12&upstream=shadow",
      properties: [
        { name: "syft:package:foundBy", value: "dpkg-db-cataloger" },
        { name: "syft:location:0:layerID", value: LAYER },
        { name: "syft:location:0:path", value: "/var/lib/dpkg/status" },
        { name: "syft:metadata:source", value: "shadow" },
        { name: "syft:metadata:sourceVersion", value: "1:4.13+dfsg1-1+deb12u2" },
      ],
    },
    {
      "bom-ref": "os:debian@12",
      type: "operating-system",
      name: "debian",
      version: "12",
      description: "Debian GNU/Linux 12 (bookworm)",
      swid: { tagId: "debian", name: "debian", version: "12" },
      externalReferences: [{ url: "https://bugs.debian.org/", type: "issue-tracker" }],
      properties: [
        { name: "syft:distro:id", value: "debian" },
        { name: "syft:distro:prettyName", value: "Debian GNU/Linux 12 (bookworm)" },
        { name: "syft:distro:versionCodename", value: "bookworm" },
        { name: "syft:distro:versionID", value: "12" },
      ],
    },
  ],
  dependencies: [
    {
      ref: "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12&package-id=5e3cd1b8c6b3a3f6",
      dependsOn: [
        "pkg:deb/debian/passwd@1:4.13+dfsg1-1+deb12u2?arch=amd64&distro=debian-12&upstream=shadow&package-id=7d1e4c2b0a9f8e6d",
      ],
    },
  ],
};

export const syftSpdx22 = {
  spdxVersion: "SPDX-2.2",
  dataLicense: "CC0-1.0",
  SPDXID: "SPDXRef-DOCUMENT",
  name: "debian",
  documentNamespace: "https://anchore.com/syft/image/debian-0b1f3a52-6f2f-4d4b-9d0b-3f3c1c1e2a10",
  creationInfo: {
    licenseListVersion: "3.23",
    creators: ["Organization: Anchore, Inc", "Tool: syft-0.105.0"],
    created: "2024-05-02T10:11:12Z",
  },
  packages: [
    {
      name: "adduser",
      SPDXID: "SPDXRef-Package-deb-adduser-5e3cd1b8c6b3a3f6",
      versionInfo: "3.134",
      supplier: "Person: Debian Adduser Developers (adduser@packages.debian.org)",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      sourceInfo:
        "acquired package info from DPKG DB: /usr/share/doc/adduser/copyright, /var/lib/dpkg/status",
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "GPL-2.0-or-later",
      copyrightText: "NOASSERTION",
      externalRefs: [
        {
          referenceCategory: "SECURITY",
          referenceType: "cpe23Type",
          referenceLocator: "cpe:2.3:a:adduser:adduser:3.134:*:*:*:*:*:*:*",
        },
        {
          referenceCategory: "PACKAGE_MANAGER",
          referenceType: "purl",
          referenceLocator: "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12",
        },
      ],
    },
    {
      name: "passwd",
      SPDXID: "SPDXRef-Package-deb-passwd-7d1e4c2b0a9f8e6d",
      versionInfo: "1:4.13+dfsg1-1+deb12u2",
      supplier: "Person: Shadow package maintainers (pkg-shadow-devel@lists.alioth.debian.org)",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "GPL-2.0-only AND LicenseRef-BSD-3-clause-Regents",
      copyrightText: "NOASSERTION",
      externalRefs: [
        {
          referenceCategory: "PACKAGE_MANAGER",
          referenceType: "purl",
          referenceLocator:
            "pkg:deb/debian/passwd@1:4.13+dfsg1-1+deb12u2?arch=amd64&distro=debian-12&upstream=shadow",
        },
      ],
    },
    {
      name: "debian",
      SPDXID: "SPDXRef-DocumentRoot-Image-debian",
      versionInfo: IMAGE,
      supplier: "NOASSERTION",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      checksums: [{ algorithm: "SHA256", checksumValue: IMAGE.slice(7) }],
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      copyrightText: "NOASSERTION",
      externalRefs: [
        {
          referenceCategory: "PACKAGE_MANAGER",
          referenceType: "purl",
          referenceLocator: `pkg:oci/debian@${IMAGE.replace(":", "%3A")}?arch=amd64&tag=12`,
        },
      ],
    },
  ],
  hasExtractedLicensingInfos: [
    { licenseId: "LicenseRef-BSD-3-clause-Regents", extractedText: "BSD-3-clause-Regents" },
  ],
  relationships: [
    {
      spdxElementId: "SPDXRef-DocumentRoot-Image-debian",
      relatedSpdxElement: "SPDXRef-Package-deb-adduser-5e3cd1b8c6b3a3f6",
      relationshipType: "CONTAINS",
    },
    {
      spdxElementId: "SPDXRef-DocumentRoot-Image-debian",
      relatedSpdxElement: "SPDXRef-Package-deb-passwd-7d1e4c2b0a9f8e6d",
      relationshipType: "CONTAINS",
    },
    {
      spdxElementId: "SPDXRef-Package-deb-passwd-7d1e4c2b0a9f8e6d",
      relatedSpdxElement: "SPDXRef-Package-deb-adduser-5e3cd1b8c6b3a3f6",
      relationshipType: "DEPENDENCY_OF",
    },
    {
      spdxElementId: "SPDXRef-DOCUMENT",
      relatedSpdxElement: "SPDXRef-DocumentRoot-Image-debian",
      relationshipType: "DESCRIBES",
    },
  ],
};

const OS_REF = "3ff14136-e09f-4df9-80ea-000000000001";
const APP_REF = "3ff14136-e09f-4df9-80ea-000000000002";

export const trivyCycloneDx = {
  $schema: "http://cyclonedx.org/schema/bom-1.5.schema.json",
  bomFormat: "CycloneDX",
  specVersion: "1.5",
  serialNumber: "urn:uuid:3ff14136-e09f-4df9-80ea-000000000000",
  version: 1,
  metadata: {
    timestamp: "2024-05-02T10:11:12+00:00",
    tools: { components: [{ type: "application", group: "aquasecurity", name: "trivy", version: "0.50.1" }] },
    component: {
      "bom-ref": `pkg:oci/shop@${IMAGE.replace(":", "%3A")}?arch=amd64`,
      type: "container",
      name: "shop:1.4.2",
      purl: `pkg:oci/shop@${IMAGE.replace(":", "%3A")}?arch=amd64`,
      properties: [
        {
          name: "aquasecurity:trivy:ImageID",
          value: "sha256:71e039eb43b900c489b30016fd392ed9dfee1a7721e4eb89aa2a13c66d5a908a",
        },
        { name: "aquasecurity:trivy:SchemaVersion", value: "2" },
      ],
    },
  },
  components: [
    {
      "bom-ref": "pkg:deb/debian/passwd@4.13+dfsg1-1+deb12u2?arch=amd64&epoch=1&distro=debian-12.4",
      type: "library",
      supplier: { name: "Shadow package maintainers <pkg-shadow-devel@lists.alioth.debian.org>" },
      name: "passwd",
      version: "4.13+dfsg1-1+deb12u2",
      licenses: [{ license: { name: "GPL-2.0-only" } }, { license: { name: "BSD-3-clause-Regents" } }],
      purl: "pkg:deb/debian/passwd@4.13+dfsg1-1+deb12u2?arch=amd64&epoch=1&distro=debian-12.4",
      properties: [
        {
          name: "aquasecurity:trivy:LayerDiffID",
          value: "sha256:2f1cd6c3ad5e5e5b3b5f3a1f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5",
        },
        { name: "aquasecurity:trivy:LayerDigest", value: LAYER },
        { name: "aquasecurity:trivy:PkgID", value: "passwd@1:4.13+dfsg1-1+deb12u2" },
        { name: "aquasecurity:trivy:PkgType", value: "debian" },
        { name: "aquasecurity:trivy:SrcEpoch", value: "1" },
        { name: "aquasecurity:trivy:SrcName", value: "shadow" },
        { name: "aquasecurity:trivy:SrcRelease", value: "1+deb12u2" },
        { name: "aquasecurity:trivy:SrcVersion", value: "4.13+dfsg1" },
      ],
    },
    {
      "bom-ref": "pkg:npm/%40tootallnate/once@1.1.2",
      type: "library",
      group: "@tootallnate",
      name: "once",
      version: "1.1.2",
      licenses: [{ license: { id: "MIT" } }],
      purl: "pkg:npm/%40tootallnate/once@1.1.2",
      properties: [
        { name: "aquasecurity:trivy:FilePath", value: "app/node_modules/@tootallnate/once/package.json" },
        { name: "aquasecurity:trivy:LayerDigest", value: LAYER },
        { name: "aquasecurity:trivy:PkgID", value: "@tootallnate/once@1.1.2" },
        { name: "aquasecurity:trivy:PkgType", value: "node-pkg" },
      ],
    },
    {
      "bom-ref": APP_REF,
      type: "application",
      name: "app/package-lock.json",
      properties: [
        { name: "aquasecurity:trivy:Class", value: "lang-pkgs" },
        { name: "aquasecurity:trivy:Type", value: "npm" },
      ],
    },
    {
      "bom-ref": OS_REF,
      type: "operating-system",
      name: "debian",
      version: "12.4",
      properties: [
        { name: "aquasecurity:trivy:Class", value: "os-pkgs" },
        { name: "aquasecurity:trivy:Type", value: "debian" },
      ],
    },
  ],
  dependencies: [
    {
      ref: OS_REF,
      dependsOn: ["pkg:deb/debian/passwd@4.13+dfsg1-1+deb12u2?arch=amd64&epoch=1&distro=debian-12.4"],
    },
    { ref: APP_REF, dependsOn: ["pkg:npm/%40tootallnate/once@1.1.2"] },
    { ref: "pkg:npm/%40tootallnate/once@1.1.2", dependsOn: [] },
  ],
};

export const trivySpdx = {
  spdxVersion: "SPDX-2.3",
  dataLicense: "CC0-1.0",
  SPDXID: "SPDXRef-DOCUMENT",
  name: "shop:1.4.2",
  documentNamespace:
    "http://aquasecurity.github.io/trivy/container_image/shop:1.4.2-3ff14136-e09f-4df9-80ea-000000000000",
  creationInfo: {
    creators: ["Organization: aquasecurity", "Tool: trivy-0.50.1"],
    created: "2024-05-02T10:11:12Z",
  },
  packages: [
    {
      name: "shop:1.4.2",
      SPDXID: "SPDXRef-ContainerImage-9a8b7c6d5e4f3a2b",
      downloadLocation: "NONE",
      primaryPackagePurpose: "CONTAINER",
      filesAnalyzed: false,
      annotations: [
        {
          annotator: "Tool: trivy-0.50.1",
          annotationDate: "2024-05-02T10:11:12Z",
          annotationType: "OTHER",
          comment: "SchemaVersion: 2",
        },
      ],
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: `pkg:oci/shop@${IMAGE.replace(":", "%3A")}?arch=amd64`,
        },
      ],
    },
    {
      name: "debian",
      SPDXID: "SPDXRef-OperatingSystem-1a2b3c4d5e6f7a8b",
      versionInfo: "12.4",
      downloadLocation: "NONE",
      primaryPackagePurpose: "OPERATING_SYSTEM",
      filesAnalyzed: false,
    },
    {
      name: "passwd",
      SPDXID: "SPDXRef-Package-2b3c4d5e6f7a8b9c",
      versionInfo: "1:4.13+dfsg1-1+deb12u2",
      supplier: "NOASSERTION",
      downloadLocation: "NONE",
      primaryPackagePurpose: "LIBRARY",
      filesAnalyzed: false,
      sourceInfo: "built package from: shadow 1:4.13+dfsg1-1+deb12u2",
      licenseConcluded: "GPL-2.0-only AND LicenseRef-a3b1c2d4e5f6a7b8",
      licenseDeclared: "GPL-2.0-only AND LicenseRef-a3b1c2d4e5f6a7b8",
      copyrightText: "NOASSERTION",
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator:
            "pkg:deb/debian/passwd@4.13+dfsg1-1+deb12u2?arch=amd64&epoch=1&distro=debian-12.4",
        },
      ],
      annotations: [
        {
          annotator: "Tool: trivy-0.50.1",
          annotationDate: "2024-05-02T10:11:12Z",
          annotationType: "OTHER",
          comment: `LayerDigest: ${LAYER}`,
        },
        {
          annotator: "Tool: trivy-0.50.1",
          annotationDate: "2024-05-02T10:11:12Z",
          annotationType: "OTHER",
          comment: "PkgID: passwd@1:4.13+dfsg1-1+deb12u2",
        },
        {
          annotator: "Tool: trivy-0.50.1",
          annotationDate: "2024-05-02T10:11:12Z",
          annotationType: "OTHER",
          comment: "PkgType: debian",
        },
      ],
    },
  ],
  hasExtractedLicensingInfos: [
    {
      licenseId: "LicenseRef-a3b1c2d4e5f6a7b8",
      extractedText: "BSD-3-clause-Regents",
      name: "BSD-3-clause-Regents",
    },
  ],
  relationships: [
    {
      spdxElementId: "SPDXRef-DOCUMENT",
      relatedSpdxElement: "SPDXRef-ContainerImage-9a8b7c6d5e4f3a2b",
      relationshipType: "DESCRIBES",
    },
    {
      spdxElementId: "SPDXRef-ContainerImage-9a8b7c6d5e4f3a2b",
      relatedSpdxElement: "SPDXRef-OperatingSystem-1a2b3c4d5e6f7a8b",
      relationshipType: "CONTAINS",
    },
    {
      spdxElementId: "SPDXRef-OperatingSystem-1a2b3c4d5e6f7a8b",
      relatedSpdxElement: "SPDXRef-Package-2b3c4d5e6f7a8b9c",
      relationshipType: "CONTAINS",
    },
  ],
};
