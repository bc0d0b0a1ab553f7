import { SondeError } from '@sonde/pack-sdk';

/**
 * Turns docker CLI failures into errors that say what to do. Returns
 * undefined for anything it does not recognise.
 */
export function classifyDockerError(stderr: string): SondeError | undefined {
  const down = /Cannot connect to the Docker daemon at (\S+?)\.? Is the docker daemon running\?/.exec(stderr);
  if (down) {
    return new SondeError('SONDE_ERR_COMMAND_FAILED', `the Docker daemon is not running or not reachable at ${down[1]}`, {
      reason: 'daemon-unreachable',
      socket: down[1],
    });
  }
  const denied = /permission denied while trying to connect to the Docker daemon socket at (\S+?):/.exec(stderr);
  if (denied) {
    return new SondeError(
      'SONDE_ERR_PERMISSION_DENIED',
      `the agent user may not use the Docker socket ${denied[1]}: add it to the docker group`,
      {
        reason: 'socket-permission',
        socket: denied[1],
      },
    );
  }
  const missing = /No such container: (\S+)/.exec(stderr);
  if (missing)
    return new SondeError('SONDE_ERR_COMMAND_FAILED', `no container named ${missing[1]}`, {
      reason: 'no-such-container',
      container: missing[1],
    });
  return undefined;
}

export function dockerFailure(stderr: string, exitCode: number): SondeError {
  return (
    classifyDockerError(stderr) ??
    new SondeError('SONDE_ERR_COMMAND_FAILED', `docker exited with ${exitCode}: ${stderr.trim().split('\n')[0]?.slice(0, 300) ?? ''}`, {
      exitCode,
    })
  );
}
