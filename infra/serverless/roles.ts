import { ACTIONS_IN_AWS_STACK, type ActionRoute } from '../../functions/actions.js';
import type { StoreAccess } from '../../lib/action.js';
import { grantsOf, STORE_ACCESSES } from './iam.js';

/*
 * The IAM roles the request-serving functions share (serverless.yml's resources, written by
 * `npm run generate` between the roles' marker lines). A CloudFormation stack holds at most 500
 * resources, and a role per function cost one of them per Action: the Actions with the same store
 * access get the same statements (./iam.ts), so they share a role, one per store access (split
 * in table order when a role would hold more than {@link FUNCTIONS_PER_ROLE} functions).
 *
 * Least privilege is unchanged: a shared role holds exactly its functions' common statements,
 * and the only statements that differ between them, the CloudWatch Logs ones (each function
 * writes its own log group), are one per function, each allowed only to that function:
 * `lambda:SourceFunctionArn`, which Lambda puts in the request context of every call its
 * function's code makes and of the CloudWatch Logs calls it makes for the function
 * (CreateLogGroup, CreateLogStream, PutLogEvents). Functions with statements of their own (the
 * dispatcher, the scheduled jobs, the partition-key provisioner) keep a role each
 * (serverless-iam-roles-per-function).
 */

export const ROLES_BEGIN_MARKER = '    # BEGIN generated roles by `npm run generate` from functions/actions.ts: change the Actions, not these lines.';
export const ROLES_END_MARKER = '    # END generated roles';

/**
 * At most this many functions share one role: IAM allows a role 10,240 characters of inline
 * policy (whitespace aside), and each function adds its log statement (about 400 characters with
 * the longest stage, region and function names the stack allows; test/e2e/serverless.test.ts
 * checks the packaged roles against the limit).
 */
export const FUNCTIONS_PER_ROLE = 20;

/** Deployed functions are named `<service>-<stage>-<function>` (the Serverless Framework's rule). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless Framework variable, written to serverless.yml as it is
export const STAGE_PREFIX = 'kms-${sls:stage}-';

export interface SharedRole {
  /** Its logical id in the stack, which the functions name (`role:`). */
  logicalId: string;
  /** Its name's middle: the role is `kms-<stage>-<part>-<region>-lambdaRole`. */
  namePart: string;
  store: StoreAccess;
  /** The functions that use it, in table order. */
  functions: readonly string[];
}

const pascal = (store: StoreAccess) => store.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());

/**
 * The shared roles of a table of Actions: per store access (in ./iam.ts's order), its Actions'
 * functions in table order, {@link FUNCTIONS_PER_ROLE} to a role. The table only grows at the end,
 * so a deployed role keeps its functions, and a new Action joins the last role of its kind or a
 * new one.
 */
export function sharedRolesOf(actions: readonly ActionRoute[] = ACTIONS_IN_AWS_STACK): SharedRole[] {
  const roles: SharedRole[] = [];
  for (const store of STORE_ACCESSES) {
    const functions = actions.filter((route) => route.operation.store === store).map((route) => route.functionName);
    for (let start = 0, n = 1; start < functions.length; start += FUNCTIONS_PER_ROLE, n++) {
      roles.push({
        logicalId: `${pascal(store)}ActionsRole${n}`,
        namePart: `${store}-${n}`,
        store,
        functions: functions.slice(start, start + FUNCTIONS_PER_ROLE),
      });
    }
  }
  return roles;
}

/** The shared role of a request-serving function's logical id. */
export function roleOf(functionName: string, roles: readonly SharedRole[] = sharedRolesOf()): string {
  const role = roles.find((r) => r.functions.includes(functionName));
  if (!role) throw new Error(`${functionName} has no shared role`);
  return role.logicalId;
}

const ARN = (service: string, resource: string) => `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`;

/**
 * A function's CloudWatch Logs statement in a shared role (`prefix`: the deployed names' prefix,
 * `kms-<stage>-`): the statement serverless-iam-roles-per-function gives a function's own role
 * (its log group's streams), allowed only to that function.
 */
export function logStatementOf(functionName: string, prefix: string = STAGE_PREFIX): Record<string, unknown> {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents'],
    Resource: [{ 'Fn::Sub': ARN('logs', `log-group:/aws/lambda/${prefix}${functionName}:*:*`) }],
    Condition: { ArnEquals: { 'lambda:SourceFunctionArn': { 'Fn::Sub': ARN('lambda', `function:${prefix}${functionName}`) } } },
  };
}

/** The generated roles, markers included, as serverless.yml's resources hold them. */
export function generatedRoles(actions: readonly ActionRoute[] = ACTIONS_IN_AWS_STACK): string {
  const lines = [ROLES_BEGIN_MARKER];
  for (const role of sharedRolesOf(actions)) {
    lines.push(
      `    # Actions with store access '${role.store}' (${role.functions.length}).`,
      `    ${role.logicalId}:`,
      '      Type: AWS::IAM::Role',
      '      Properties:',
      `        RoleName: { 'Fn::Join': ['-', [kms, '\${sls:stage}', ${role.namePart}, { Ref: 'AWS::Region' }, lambdaRole]] }`,
      '        Path: /',
      '        AssumeRolePolicyDocument:',
      "          Version: '2012-10-17'",
      '          Statement: [{ Effect: Allow, Principal: { Service: [lambda.amazonaws.com] }, Action: [sts:AssumeRole] }]',
      '        Policies:',
      `          - PolicyName: kms-\${sls:stage}-${role.namePart}`,
      '            PolicyDocument:',
      "              Version: '2012-10-17'",
      '              Statement:',
      '                # Each function its own log group only.',
      ...role.functions.flatMap((functionName) => {
        const statement = logStatementOf(functionName) as {
          Resource: [{ 'Fn::Sub': string }];
          Condition: { ArnEquals: Record<string, { 'Fn::Sub': string }> };
        };
        return [
          '                - Effect: Allow',
          '                  Action: [logs:CreateLogStream, logs:CreateLogGroup, logs:PutLogEvents]',
          `                  Resource: [{ 'Fn::Sub': '${statement.Resource[0]['Fn::Sub']}' }]`,
          `                  Condition: { ArnEquals: { 'lambda:SourceFunctionArn': { 'Fn::Sub': '${statement.Condition.ArnEquals['lambda:SourceFunctionArn']!['Fn::Sub']}' } } }`,
        ];
      }),
      '                # What every one of them may do (infra/serverless/iam.ts).',
      ...grantsOf(role.store, true).map((grant) => `                - *${grant}`),
    );
  }
  lines.push(ROLES_END_MARKER);
  return `${lines.join('\n')}\n`;
}
