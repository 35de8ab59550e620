import { beforeAll, describe, expect, it } from 'vitest';
import { synthTemplate } from '../infra/synth.ts';
import { apiGatewayModel, type GatewayOutcome } from '../support/api-gateway-model.ts';
import {
  type Case,
  checkCases,
  eraseCases,
  idRouteCases,
  sendCases,
  usageCases,
  webhookCases,
} from '../support/bad-input-cases.ts';
import { createHarness, type Harness, parse, startVerification, wrongCode } from '../support/harness.ts';

/**
 * Gateway parity: every request of the bad-input corpus gets the same status and error code on AWS as
 * locally. On AWS, API Gateway may answer first (no route, no key, the 405 mock, a request model); what it
 * would answer is read from the synthesized template and compared with the function's answer.
 */

type Template = Parameters<typeof apiGatewayModel>[0];

let h: Harness;
let pendingId: string;
let wrong: string;
let template: Template;
beforeAll(async () => {
  h = await createHarness();
  const started = await startVerification(h);
  pendingId = started.id;
  wrong = wrongCode(started.code);
  template = synthTemplate().toJSON() as Template;
});

const corpus = [
  ...sendCases.map((c) => ['send', c] as const),
  ...[...checkCases, ...idRouteCases, ...eraseCases, ...webhookCases, ...usageCases].map(
    (c) => ['verify', c] as const,
  ),
];

/** The cases where what the gateway answers differs from what the function answers. */
async function disagreements(gateway: (event: ReturnType<Case[1]>) => GatewayOutcome) {
  const found: string[] = [];
  for (const [fn, [name, event, status, code]] of corpus) {
    const request = event(pendingId, wrong);
    const answered = await h[fn](request);
    const local = { status: answered.statusCode, code: (parse(answered).error as { code: string }).code };
    expect(local, name).toEqual({ status, code });
    const aws = gateway(request);
    if (aws.by === 'gateway' && (aws.status !== local.status || aws.code !== local.code)) {
      found.push(
        `${name}: gateway ${aws.status} ${aws.code} (${aws.responseType}), function ${status} ${code}`,
      );
    }
  }
  return found;
}

describe('API Gateway and the functions answer the bad-input corpus alike', () => {
  it('every case gets the same status and code from the synthesized gateway as from the function', async () => {
    const gateway = apiGatewayModel(template);
    expect(await disagreements(gateway)).toEqual([]);
    // The gateway does answer some of them itself, with the functions' codes.
    const byGateway = corpus
      .map(([, [name, event]]) => [name, gateway(event(pendingId, wrong))] as const)
      .filter(([, outcome]) => outcome.by === 'gateway');
    expect(
      Object.fromEntries(
        byGateway.map(([name, outcome]) => [name, outcome.by === 'gateway' && outcome.code]),
      ),
    ).toMatchObject({
      'no API key': 'forbidden',
      'GET on the send route': 'method_not_allowed',
      'unknown route': 'route_not_found',
    });
  });

  it('would see a body model that answers before the function (the 64-character models of before)', async () => {
    const withModel = structuredClone(template);
    const send = Object.values(withModel.Resources).find(
      (resource) =>
        resource.Type === 'AWS::ApiGateway::Method' &&
        resource.Properties.HttpMethod === 'POST' &&
        resource.Properties.OperationName === 'send',
    );
    withModel.Resources.OldSendModel = {
      Type: 'AWS::ApiGateway::Model',
      Properties: {
        ContentType: 'application/json',
        Schema: {
          $schema: 'http://json-schema.org/draft-04/schema#',
          type: 'object',
          required: ['phone'],
          additionalProperties: false,
          properties: { phone: { type: 'string', maxLength: 64 }, locale: { type: 'string', maxLength: 35 } },
        },
      },
    };
    Object.assign(send?.Properties ?? {}, { RequestModels: { 'application/json': { Ref: 'OldSendModel' } } });
    const found = await disagreements(apiGatewayModel(withModel));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^broken JSON: gateway 400 invalid_request \(BAD_REQUEST_BODY\), function 400 invalid_json/,
        ),
        expect.stringMatching(/^2 MB body: gateway 400 invalid_request .* function 413 payload_too_large/),
        expect.stringMatching(/^20 kB body of unknown fields: gateway 400 .* function 413/),
      ]),
    );
  });
});
