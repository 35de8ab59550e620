import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { FunctionAccess, SecretName } from './function-access.ts';

/** The variables lib/platform/runtime.ts reads to find each secret. */
const SECRET_VARIABLES: Record<SecretName, string> = {
  keyRing: 'KEYRING_SECRET_ID',
  plivo: 'PLIVO_SECRET_ID',
};

export interface AccessTarget extends IGrantable {
  addEnvironment(key: string, value: string): unknown;
}

/** Grants a function exactly its row of FUNCTION_ACCESS and tells it, by environment, where things are. */
export function bindAccess(
  target: AccessTarget,
  access: FunctionAccess,
  resources: { table: ITable; secrets: Record<SecretName, ISecret> },
): void {
  if (access.table.length > 0) {
    Grant.addToPrincipal({
      grantee: target,
      actions: [...access.table],
      resourceArns: [resources.table.tableArn],
    });
    target.addEnvironment('TABLE_NAME', resources.table.tableName);
  }
  for (const name of access.secrets) {
    const secret = resources.secrets[name];
    Grant.addToPrincipal({
      grantee: target,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretArn],
    });
    target.addEnvironment(SECRET_VARIABLES[name], secret.secretArn);
  }
}
