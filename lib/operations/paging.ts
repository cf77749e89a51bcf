import { z } from 'zod';
import { integerParameter } from '../rpc/schema.js';

/** Paging defaults, declared once: page 1, 10 per page, at most 100. */
export const PAGING_DEFAULTS = { pageNumber: 1, pageSize: 10, maxPageSize: 100 } as const;

export const pagingInput = {
  PageNumber: integerParameter(1, 1_000_000).optional(),
  PageSize: integerParameter(1, PAGING_DEFAULTS.maxPageSize).optional(),
};

export type PagingInput = { PageNumber?: number; PageSize?: number };

/** One page of `items` with Alibaba's paging fields. Past the last page: an empty page, not an error. */
export function page<T>(items: readonly T[], input: PagingInput): { items: T[]; TotalCount: number; PageNumber: number; PageSize: number } {
  const PageNumber = input.PageNumber ?? PAGING_DEFAULTS.pageNumber;
  const PageSize = input.PageSize ?? PAGING_DEFAULTS.pageSize;
  const start = (PageNumber - 1) * PageSize;
  return { items: items.slice(start, start + PageSize), TotalCount: items.length, PageNumber, PageSize };
}

export const pagingSchema = z.object(pagingInput);
