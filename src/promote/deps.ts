/**
 * The real implementations behind the gates' interfaces: cosign-compatible
 * verification and signing from src/sign. Keys are loaded once per path.
 */
import { readFileSync } from "node:fs";
import { ShipgateError } from "../errors.js";
import type { LoadedConfig } from "../policy/config.js";
import { resolveFromConfig } from "../policy/config.js";
import { loadPrivateKey, loadPublicKey, type PrivateKey, type PublicKey } from "../sign/keys.js";
import { attestImage } from "../sign/sign-image.js";
import { verifyAttestations, verifyImage } from "../sign/verify.js";
import type { AttestationVerifier, SignatureVerifier } from "./gates/types.js";
import { PROMOTION_PREDICATE_TYPE, type PromotionSigner } from "./predicate.js";

function keyLoader(env: NodeJS.ProcessEnv): (specs: readonly string[]) => Promise<PublicKey[]> {
  const cache = new Map<string, Promise<PublicKey>>();
  return (specs) =>
    Promise.all(
      specs.map((spec) => {
        let key = cache.get(spec);
        if (key === undefined) {
          key = loadPublicKey(spec, env);
          cache.set(spec, key);
        }
        return key;
      }),
    );
}

export function signatureVerifier(env: NodeJS.ProcessEnv = process.env): SignatureVerifier {
  const keys = keyLoader(env);
  return {
    async verify(location, specs, open) {
      const result = await verifyImage(location, await keys(specs), { open });
      return {
        verified: result.verified,
        signatures: result.signatures.map((s) => ({ key: s.key, foundIn: s.foundIn })),
        reasons: result.reasons,
      };
    },
  };
}

export function attestationVerifier(env: NodeJS.ProcessEnv = process.env): AttestationVerifier {
  const keys = keyLoader(env);
  return {
    async verify(location, specs, open) {
      const result = await verifyAttestations(location, await keys(specs), { open });
      return {
        attestations: result.attestations.map((a) => ({
          predicateType: a.predicateType,
          predicate: a.statement.predicate,
          key: a.key,
          foundIn: a.foundIn,
        })),
        reasons: result.reasons,
      };
    },
  };
}

/** Signs promotion attestations with `signing.key` (password from `signing.password`, else $COSIGN_PASSWORD). */
export function promotionSigner(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
): PromotionSigner | undefined {
  const signing = loaded.config.signing;
  if (signing === undefined) return undefined;
  const path = resolveFromConfig(loaded, signing.key);
  // Decrypting the key (scrypt) is slow: once per process.
  let loading: Promise<PrivateKey> | undefined;
  const privateKey = () => {
    loading ??= (async () => {
      let pem: string;
      try {
        pem = readFileSync(path, "utf8");
      } catch (error) {
        throw new ShipgateError(
          "KEY_INVALID",
          `cannot read the signing key ${path}: ${(error as Error).message}`,
          {
            hint: "fix signing.key in shipgate.yaml (relative to the file)",
          },
        );
      }
      return loadPrivateKey(pem, signing.password ?? env.COSIGN_PASSWORD ?? "", path);
    })();
    return loading;
  };
  return {
    async attested(location, open) {
      const key = await privateKey();
      const found = await verifyAttestations(location, [key.publicKey], {
        open,
        predicateType: PROMOTION_PREDICATE_TYPE,
      });
      return found.attestations.length > 0;
    },
    async attest(location, predicate, open) {
      const written = await attestImage(location, await privateKey(), {
        predicate,
        type: PROMOTION_PREDICATE_TYPE,
        open,
      });
      return written.images[0]?.manifest ?? "";
    },
  };
}
