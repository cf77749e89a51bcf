/** Paging defaults, declared once: page 1, 10 per page, at most 100, at most page 1,000,000. */
export const PAGING_DEFAULTS = { pageNumber: 1, pageSize: 10, maxPageSize: 100, maxPageNumber: 1_000_000 } as const;

export type PagingInput = { PageNumber?: number; PageSize?: number };

/** Which items a page holds: `offset` and `limit`, with the paging fields it answers with. */
export function pageBounds(input: PagingInput): { offset: number; limit: number; PageNumber: number; PageSize: number } {
  const PageNumber = input.PageNumber ?? PAGING_DEFAULTS.pageNumber;
  const PageSize = input.PageSize ?? PAGING_DEFAULTS.pageSize;
  return { offset: (PageNumber - 1) * PageSize, limit: PageSize, PageNumber, PageSize };
}

/** One page of `items` with Alibaba's paging fields. Past the last page: an empty page, not an error. */
export function page<T>(items: readonly T[], input: PagingInput): { items: T[]; TotalCount: number; PageNumber: number; PageSize: number } {
  const { offset, limit, PageNumber, PageSize } = pageBounds(input);
  return { items: items.slice(offset, offset + limit), TotalCount: items.length, PageNumber, PageSize };
}
