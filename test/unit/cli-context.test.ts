import { describe, expect, it } from 'vitest';
import { contextPair, contextParam } from '../../infra/cli/common.js';

describe('Function: contextPair (kms --context k=v)', () => {
  it.each(['__proto__', 'constructor', 'toString'])('when a key is %s, it is an ordinary pair and is sent', (key) => {
    const map = contextPair('b=2', contextPair(`${key}=tenantA`, undefined));
    expect(Object.keys(map).sort()).toEqual([key, 'b'].sort());
    expect(JSON.parse(contextParam(map)!)).toEqual(JSON.parse(`{"${key}":"tenantA","b":"2"}`));
  });

  it('when a key is given twice, it is refused', () => {
    expect(() => contextPair('a=2', contextPair('a=1', undefined))).toThrow(/given twice/);
  });
});
