import type { Command } from 'commander';
import { AgentError } from '../errors.js';
import { homePaths } from '../home.js';
import { refuseRoot } from '../root-guard.js';
import { action, emit, type JsonOption } from '../cli/output.js';

/**
 * `sonde renew`: a new certificate for this agent over mTLS with the current one. The hub allows it in the
 * certificate's last 30 days, or at any time when it moves the agent to the hub's wire signature (an agent
 * enrolled with RSA-SHA256 gets its Ed25519 wire key certified). A running agent picks the new credentials up
 * when it next connects.
 */
export function registerRenew(program: Command): void {
  program
    .command('renew')
    .description('Renew the client certificate over mTLS (last 30 days, or to move to the hub wire signature, e.g. RSA to Ed25519)')
    .option('--json', 'print the outcome as JSON')
    .action(
      action(async (options: JsonOption) => {
        refuseRoot();
        const paths = homePaths();
        // node-forge is only needed here and in enroll.
        const { loadIdentity, saveIdentity } = await import('../identity/identity.js');
        const { generateKeyAndCsr } = await import('../identity/csr.js');
        const { requestRenewal } = await import('../identity/enroll.js');
        const current = loadIdentity(paths);
        let hub: URL;
        try {
          hub = new URL(current.hubUrl);
        } catch {
          throw new AgentError('SONDE_ERR_IDENTITY_BROKEN', `identity.json names no valid hub URL (${current.hubUrl}).`);
        }
        const { keyPem, csrPem, wireKeyPem, wireOffer } = generateKeyAndCsr(current.name);
        const answer = await requestRenewal(hub, { csrPem, wireKey: wireOffer }, current);
        if (answer.agentId !== current.agentId)
          throw new AgentError('SONDE_ERR_HUB_NOT_SONDE', `the hub renewed agent ${answer.agentId}, not ${current.agentId}.`);
        const { agentId, name, hubUrl, wsUrl, enrolledAt } = current;
        saveIdentity(
          paths,
          { agentId, name, hubUrl, wsUrl, enrolledAt },
          {
            keyPem,
            certPem: answer.certPem,
            caPem: answer.caPem,
            apiKey: current.apiKey,
            ...(answer.wire ? { wire: { keyPem: wireKeyPem, grant: answer.wire } } : {}),
          },
        );
        const wireSignature = answer.wire ? 'ed25519' : 'rsa-sha256';
        emit(options, { ok: true, agentId, notAfter: answer.notAfter, wireSignature, previous: current.wireSignature ?? 'rsa-sha256' }, [
          `Renewed ${name}: certificate valid until ${answer.notAfter}; messages signed with ${wireSignature}.`,
          'A running agent uses the new credentials from its next connection (restart it to switch now).',
        ]);
      }),
    );
}
