import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionName } from '#platform/routes.ts';
import { FUNCTION_ACCESS, type ServiceAction } from '../../infra/function-access.ts';

/**
 * Each function's EventBridge and SQS clients for the integration suite: the real SDK clients (commands built,
 * serialized inputs validated by the SDK's middleware up to the send), answered by a stand-in at the last step
 * as the service would answer a success. A call the function has no grant for (infra/function-access.ts)
 * fails as AWS would fail it, and every call is reported, so test/grants can hold the grants to what the
 * handlers really sent.
 */
const ACTION_OF: Record<string, ServiceAction> = {
  PutEventsCommand: 'events:PutEvents',
  SendMessageBatchCommand: 'sqs:SendMessage',
  SendMessageCommand: 'sqs:SendMessage',
  ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
};

/** What the service answers when it accepted the whole request. */
function success(command: string, input: Record<string, unknown>): Record<string, unknown> {
  if (command === 'PutEventsCommand') {
    const entries = (input.Entries as unknown[] | undefined) ?? [];
    return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `event-${i}` })) };
  }
  if (command === 'SendMessageBatchCommand') {
    const entries = (input.Entries as Array<{ Id: string }> | undefined) ?? [];
    return {
      Successful: entries.map(({ Id }) => ({ Id, MessageId: `message-${Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    };
  }
  return {};
}

export class AccessDenied extends Error {
  override name = 'AccessDeniedException';
}

const CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  endpoint: 'http://127.0.0.1:9',
};

export function awsClientsFor(name: FunctionName, onCall: (command: string, action: string) => void) {
  const granted = new Set<string>(FUNCTION_ACCESS[name].services);
  const answer = <C extends { middlewareStack: EventBridgeClient['middlewareStack'] }>(client: C): C => {
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const command = String(context.commandName);
        const action = ACTION_OF[command] ?? `unknown:${command}`;
        onCall(command, action);
        if (!granted.has(action))
          throw new AccessDenied(`${name} is not authorized to perform ${action} (infra/function-access.ts)`);
        return {
          output: { $metadata: {}, ...success(command, args.input as Record<string, unknown>) },
          response: {},
        };
      },
      { step: 'initialize', name: 'grantedStandIn' },
    );
    return client;
  };
  return {
    eventBridge: answer(new EventBridgeClient(CLIENT_CONFIG)),
    sqs: answer(new SQSClient(CLIENT_CONFIG) as unknown as EventBridgeClient) as unknown as SQSClient,
  };
}
