import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's AWS CLI v2 (an `aws` earlier on PATH may be another version). */
export const AWS_CLI = '/usr/bin/aws';
/** Debian's Python, with Debian's boto3 (a `python3` earlier on PATH may have another). */
export const PYTHON = '/usr/bin/python3';

/** What this machine lacks of the two clients (nothing, once .ci/run has installed them). */
export const MISSING_AWS_CLIENTS = [
  existsSync(AWS_CLI) ? undefined : `the AWS CLI v2 at ${AWS_CLI} (Debian package awscli)`,
  spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0 ? undefined : `boto3 for ${PYTHON} (Debian package python3-boto3)`,
].filter((m) => m !== undefined);

export const MISSING_AWS_CLIENTS_MESSAGE = `This suite drives the gateway with real AWS clients and needs ${MISSING_AWS_CLIENTS.join(' and ')}: apt-get install awscli python3-boto3 (.ci/run does).`;
