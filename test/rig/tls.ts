import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it (PEM, unencrypted
 * PKCS#8 keys: what Kafka's PEM keystore and kube-apiserver both accept).
 */
export function makeServerCertificate(dir: string, commonName: string): CertificateFiles {
  const files = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, `${commonName}.crt`),
    key: join(dir, `${commonName}.key`),
  };
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=graybridge-test-ca',
      '-keyout',
      files.caKey,
      '-out',
      files.caCert,
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      files.key,
      '-out',
      join(dir, `${commonName}.csr`),
    ],
    dir,
  );
  const extensions = join(dir, `${commonName}.ext`);
  writeFileSync(extensions, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      join(dir, `${commonName}.csr`),
      '-CA',
      files.caCert,
      '-CAkey',
      files.caKey,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      extensions,
      '-out',
      files.cert,
    ],
    dir,
  );
  return files;
}

/** An RSA key pair (PEM) for signing service-account tokens. */
export function makeKeyPair(dir: string, name: string): { readonly privateKey: string; readonly publicKey: string } {
  const privateKey = join(dir, `${name}.key`);
  const publicKey = join(dir, `${name}.pub`);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', privateKey], dir);
  openssl(['pkey', '-in', privateKey, '-pubout', '-out', publicKey], dir);
  return { privateKey, publicKey };
}
