import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, saveConfig } from '../config/load.js';
import { AgentError } from '../errors.js';
import { ensureHome, homePaths } from '../home.js';
import { defaultAgentName, parseHubUrl, requestEnrollment } from '../identity/enroll.js';
import { addTrustedKey } from '@sonde/registry';
import { readTrustStore, writeTrustStore } from '../packs/trust.js';
import { refuseRoot } from '../root-guard.js';
import { isEnrolled } from '../identity/state.js';
import { action, emit, type JsonOption } from '../cli/output.js';

interface EnrollOptions extends JsonOption {
  hub: string;
  token: string;
  name?: string;
  force?: boolean;
  caFile?: string;
  insecure?: boolean;
}

function readCaFile(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('not a PEM certificate');
    return pem;
  } catch (error) {
    throw new AgentError('SONDE_ERR_USAGE', `--ca-file ${file}: ${(error as Error).message}`);
  }
}

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('Enroll this host with a hub: makes a key pair here, sends only a CSR, stores the issued credentials (0600)')
    .requiredOption('--hub <url>', 'hub base URL, e.g. https://hub.example.com')
    .requiredOption('--token <token>', 'one-time enrollment token from the hub dashboard')
    .option('--name <name>', 'agent name (default: host name)')
    .option('--force', 're-enroll even if this agent is already enrolled')
    .option('--ca-file <pem>', 'trust this CA certificate (PEM) for the enrollment request, e.g. a hub with a private CA')
    .option(
      '--insecure',
      'allow plain http:// to a hub that is not on this machine (the token travels in clear; the CA is pinned from that answer)',
    )
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (options: EnrollOptions) => {
        refuseRoot();
        const paths = homePaths();
        ensureHome(paths.home);
        if (isEnrolled(paths) && !options.force) throw new AgentError('SONDE_ERR_ALREADY_ENROLLED');
        const hub = parseHubUrl(options.hub, { insecure: options.insecure });
        const config = loadConfig(paths);
        const name = options.name ?? config.name ?? defaultAgentName();
        // node-forge is only needed here; keep it off every other command's start-up path.
        const { generateKeyAndCsr } = await import('../identity/csr.js');
        const { saveIdentity } = await import('../identity/identity.js');
        const { keyPem, csrPem, wireKeyPem, wireOffer } = generateKeyAndCsr(name);
        const caPem = options.caFile ? readCaFile(options.caFile) : undefined;
        // The Ed25519 wire key is offered; the hub certifies it (and hands over its own) unless it signs with RSA.
        const answer = await requestEnrollment(hub, options.token, name, csrPem, { caPem, wireKey: wireOffer });
        saveIdentity(
          paths,
          { agentId: answer.agentId, name: answer.name, hubUrl: hub.href, wsUrl: answer.wsUrl, enrolledAt: new Date().toISOString() },
          {
            keyPem,
            certPem: answer.certPem,
            caPem: answer.caPem,
            apiKey: answer.apiKey,
            ...(answer.wire ? { wire: { keyPem: wireKeyPem, grant: answer.wire } } : {}),
          },
        );
        saveConfig(paths, { ...config, hubUrl: hub.href, name: answer.name });
        // The hub signs the pack revocation list; trusting its key here (over the enrollment channel) lets
        // the agent accept the lists it pushes. A re-enrolment with another hub adds that hub's key.
        if (answer.revocationKey) {
          const { revocationKey } = answer;
          writeTrustStore(paths, addTrustedKey(readTrustStore(paths), { ...revocationKey, publisher: undefined }, { role: 'hub' }));
        }
        const wireSignature = answer.wire ? 'ed25519' : 'rsa-sha256';
        emit(
          options,
          { ok: true, agentId: answer.agentId, name: answer.name, hub: hub.href, wsUrl: answer.wsUrl, home: paths.home, wireSignature },
          [
            `Enrolled as ${answer.name} (${answer.agentId}) with ${hub.href}; messages signed with ${wireSignature}.`,
            `Credentials stored in ${paths.home} (mode 0600).`,
            'Next: sonde start',
          ],
        );
      }),
    );
}
