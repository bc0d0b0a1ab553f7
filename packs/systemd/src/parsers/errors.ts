import { SondeError } from '@sonde/pack-sdk';

/** Turns systemctl/journalctl failures into errors that say what is wrong. */
export function systemdFailure(binary: string, stderr: string, exitCode: number): SondeError {
  if (/System has not been booted with systemd as init system \(PID 1\)/.test(stderr)) {
    return new SondeError(
      'SONDE_ERR_COMMAND_FAILED',
      `${binary}: systemd is not the init system (PID 1) on this host, so there are no units to query`,
      {
        reason: 'not-systemd',
      },
    );
  }
  if (/Failed to connect to bus/.test(stderr)) {
    return new SondeError('SONDE_ERR_COMMAND_FAILED', `${binary}: cannot reach the systemd manager: ${stderr.trim().split('\n').at(-1)}`, {
      reason: 'no-bus',
    });
  }
  if (/No journal files were opened due to insufficient permissions/.test(stderr)) {
    return new SondeError(
      'SONDE_ERR_PERMISSION_DENIED',
      'journalctl: the agent user may not read the journal; add it to the systemd-journal group',
      {
        reason: 'journal-permission',
      },
    );
  }
  return new SondeError(
    'SONDE_ERR_COMMAND_FAILED',
    `${binary} exited with ${exitCode}: ${stderr.trim().split('\n')[0]?.slice(0, 300) ?? ''}`,
    { exitCode },
  );
}
