// The shell's -c/-k flags: mutual TLS with one certificate that is also the only trusted CA, and
// the certificate's first DNS name as the server name (go-dqlite's SimpleDialTLSConfig).
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { TlsDialOptions } from "./dial.js";
import { goPathError } from "./go-errors.js";

/** Reads and checks a certificate and key pair; errors carry Go's texts. */
export async function loadTlsDialOptions(
  certPath: string,
  keyPath: string,
): Promise<TlsDialOptions> {
  const cert = await readText(certPath);
  const key = await readText(keyPath);
  if (!cert.includes("-----BEGIN")) {
    throw new Error("tls: failed to find any PEM data in certificate input");
  }
  if (!key.includes("-----BEGIN")) throw new Error("tls: failed to find any PEM data in key input");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`tls: failed to parse certificate: ${(error as Error).message}`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error("tls: failed to parse private key");
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error("tls: private key does not match public key");
  }
  const dnsNames = (certificate.subjectAltName ?? "")
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4));
  if (dnsNames.length === 0) throw new Error("certificate has no DNS extension");
  return { cert, key, ca: cert, serverName: dnsNames[0] };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw goPathError("open", path, error);
  }
}
