import { tableFeatures, useTable, type ColumnDef, type RowData } from '@tanstack/react-table';
import type { ReactNode } from 'react';

/**
 * A semantic, read-only table over TanStack Table: `<caption>`, column
 * headers with `scope`, one row per item. The API sorts, filters and pages;
 * the table only lays out the page it is given.
 */

export const TABLE_FEATURES = tableFeatures({});
export type TableFeatureSet = typeof TABLE_FEATURES;

export interface DataTableProps<T extends RowData> {
  readonly caption: ReactNode;
  /** Keep at module scope (or memoised): a new array each render rebuilds the table. */
  readonly columns: readonly ColumnDef<TableFeatureSet, T>[];
  readonly data: readonly T[];
  readonly rowId: (row: T) => string;
  /** Shown in one cell across the table when `data` is empty. */
  readonly empty: ReactNode;
  readonly busy?: boolean;
}

export function DataTable<T extends RowData>({ caption, columns, data, rowId, empty, busy = false }: DataTableProps<T>) {
  const table = useTable({ features: TABLE_FEATURES, columns, data, getRowId: (row) => rowId(row) });
  const headerGroups = table.getHeaderGroups();
  const rows = table.getRowModel().rows;
  return (
    <table className="data-table" aria-busy={busy}>
      <caption>{caption}</caption>
      <thead>
        {headerGroups.map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => (
              <th key={header.id} scope="col">
                {header.isPlaceholder ? null : <table.FlexRender header={header} />}
              </th>
            ))}
          </tr>
        ))}
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={table.getAllLeafColumns().length} className="empty">
              {empty}
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={row.id}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id}>
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
