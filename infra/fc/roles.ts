import type { StoreAccess } from '../../lib/action.js';

/**
 * The RAM roles of a Function Compute deployment: one per group of functions with the same needs,
 * derived from what each function declares (functions/actions.ts: an Action's `store`, a scheduled
 * job's `store`; the dispatcher serves every Action; the provisioner opens no store).
 *
 * On Function Compute the state is in PostgreSQL, so a store group's RAM rights are the two secrets
 * it reads at start: the root key and its own PostgreSQL URL; the provisioner's are its own secret
 * (its access key), its dead-letter queue and the partition registry. Each group may be given its own URL
 * secret (`--postgres-url-secret <group>=<name>`), i.e. its own database user, so that what an
 * Action declares is enforced by the database as well; with one URL secret the four store roles
 * hold the same rights and differ only in name.
 *
 * The roles are created by whoever administers RAM (their ARNs are parameters of the deployment):
 * the deployer then needs no RAM rights beyond `ram:PassRole` on them.
 */
export type RoleGroup = StoreAccess | 'dispatch' | 'provisioner';

export const ROLE_GROUPS: readonly RoleGroup[] = ['reads', 'writes-state', 'creates-material', 'deletes-material', 'dispatch', 'provisioner'];

/** Functions of a store group open the store: they read the root key and a PostgreSQL URL at start. */
export function opensStore(group: RoleGroup): boolean {
  return group !== 'provisioner';
}

/** Who may assume each role: Function Compute, for the functions it runs. */
export const FC_TRUST_POLICY = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
} as const;

/** What the policies name, all site-specific. */
export interface PolicyContext {
  region: string;
  accountId: string;
  /** The Alibaba Cloud KMS secret holding the root key. */
  rootKeySecret: string;
  /** The PostgreSQL URL secret of each store group. */
  postgresUrlSecret: (group: RoleGroup) => string;
  /** The Alibaba Cloud KMS secret holding the provisioner's access key (KMS_PROVISIONER_SECRET): the provisioner reads it, nothing else. */
  provisionerSecret: string;
  /** The provisioner's dead-letter queue (MNS): the async destination on failure, written with the function's role. */
  deadLetterQueue?: string;
  /** The partition registry, when in OSS: `oss://bucket/prefix`. */
  partitionRegistry?: string;
  /** The Simple Log Service logstore the functions log to (FC writes with the function's role). */
  log?: { project: string; logstore: string };
}

interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** The RAM policy of one role group, least privilege: only what its functions call. */
export function policyFor(group: RoleGroup, context: PolicyContext): { Version: '1'; Statement: Statement[] } {
  const { region, accountId } = context;
  const statements: Statement[] = [];
  const secret = (name: string) => `acs:kms:${region}:${accountId}:secret/${name}`;
  if (opensStore(group)) {
    const secrets = [...new Set([context.rootKeySecret, context.postgresUrlSecret(group)])].map(secret);
    statements.push({ Effect: 'Allow', Action: ['kms:GetSecretValue'], Resource: secrets });
  } else {
    // Its access key, read at run time (and again when the key is refused): that secret only.
    statements.push({ Effect: 'Allow', Action: ['kms:GetSecretValue'], Resource: [secret(context.provisionerSecret)] });
    if (context.deadLetterQueue) {
      statements.push({
        Effect: 'Allow',
        Action: ['mns:SendMessage'],
        Resource: [`acs:mns:${region}:${accountId}:/queues/${context.deadLetterQueue}/messages`],
      });
    }
    const oss = context.partitionRegistry ? /^oss:\/\/([^/]+)\/?(.*)$/.exec(context.partitionRegistry) : null;
    if (oss) {
      statements.push({ Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: [`acs:oss:*:${accountId}:${oss[1]}/${oss[2]}*`] });
    }
  }
  if (context.log) {
    statements.push({
      Effect: 'Allow',
      Action: ['log:PostLogStoreLogs'],
      Resource: [`acs:log:${region}:${accountId}:project/${context.log.project}/logstore/${context.log.logstore}`],
    });
  }
  return { Version: '1', Statement: statements };
}

/** A function to deploy: its name in the stage, its source file, and its role group. */
export interface FcFunctionSource {
  functionName: string;
  file: string;
  roleGroup: RoleGroup;
}

/** Every function of a stage, each in the role group its declaration puts it in. */
export function functionSources(table: {
  actions: readonly { functionName: string; file: string; operation: { store: StoreAccess } }[];
  dispatcher?: { functionName: string; file: string };
}): FcFunctionSource[] {
  return [
    ...table.actions.map((route) => ({ functionName: route.functionName, file: route.file, roleGroup: route.operation.store })),
    ...(table.dispatcher ? [{ ...table.dispatcher, roleGroup: 'dispatch' as const }] : []),
  ];
}
