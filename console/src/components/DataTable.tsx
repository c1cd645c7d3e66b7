import { createColumnHelper, rowSelectionFeature, tableFeatures, useTable, type ColumnDef, type OnChangeFn, type RowData, type RowSelectionState } from '@tanstack/react-table';
import type { InputHTMLAttributes, ReactNode } from 'react';

/**
 * A semantic table over TanStack Table: `<caption>`, column headers with
 * `scope`, one row per item. The API sorts, filters and pages; the table
 * only lays out the page it is given, and, when the page asks, lets the
 * operator select rows (TanStack's row selection, keyed by row id).
 */

export const TABLE_FEATURES = tableFeatures({ rowSelectionFeature });
export type TableFeatureSet = typeof TABLE_FEATURES;

/** The id of the checkbox column `selectionColumn` makes. */
const SELECT_COLUMN_ID = 'select';

/** Which rows are selected, by row id: the page owns it, to act on it and to clear it (another page, other filters). */
export interface RowSelection {
  readonly state: RowSelectionState;
  readonly onChange: OnChangeFn<RowSelectionState>;
}

export interface DataTableProps<T extends RowData> {
  readonly caption: ReactNode;
  /** Keep at module scope (or memoised): a new array each render rebuilds the table. */
  readonly columns: readonly ColumnDef<TableFeatureSet, T>[];
  readonly data: readonly T[];
  readonly rowId: (row: T) => string;
  /** Shown in one cell across the table when `data` is empty. */
  readonly empty: ReactNode;
  readonly busy?: boolean;
  /** Rows may be selected (put a `selectionColumn` among the columns); without it nothing is selectable. */
  readonly selection?: RowSelection;
}

export function DataTable<T extends RowData>({ caption, columns, data, rowId, empty, busy = false, selection }: DataTableProps<T>) {
  const table = useTable({
    features: TABLE_FEATURES,
    columns,
    data,
    getRowId: (row) => rowId(row),
    enableRowSelection: selection !== undefined,
    ...(selection === undefined ? {} : { state: { rowSelection: selection.state }, onRowSelectionChange: selection.onChange }),
  });
  const headerGroups = table.getHeaderGroups();
  const rows = table.getRowModel().rows;
  const selectCell = (columnId: string) => (columnId === SELECT_COLUMN_ID ? 'select' : undefined);
  return (
    <table className="data-table" aria-busy={busy}>
      <caption>{caption}</caption>
      <thead>
        {headerGroups.map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => (
              <th key={header.id} scope="col" className={selectCell(header.column.id)}>
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
            <tr key={row.id} className={selection !== undefined && row.getIsSelected() ? 'selected' : undefined}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id} className={selectCell(cell.column.id)}>
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

/** A checkbox whose third state ("some of them") is a DOM property, not an attribute. */
function Checkbox({ indeterminate, ...props }: Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & { readonly indeterminate: boolean }) {
  return (
    <input
      type="checkbox"
      ref={(input) => {
        if (input) input.indeterminate = indeterminate;
      }}
      {...props}
    />
  );
}

/**
 * The checkbox column of a table given `selection`: one checkbox per row
 * (Shift selects a range) and one in the header for every row on this page.
 * The labels name what a checkbox selects, for screen readers.
 */
export function selectionColumn<T extends RowData>(labels: { readonly row: (row: T) => string; readonly page: (rowCount: number) => string }): ColumnDef<TableFeatureSet, T> {
  return createColumnHelper<TableFeatureSet, T>().display({
    id: SELECT_COLUMN_ID,
    header: ({ table }) => {
      const all = table.getIsAllPageRowsSelected();
      const rowCount = table.getRowModel().rows.length;
      return (
        <Checkbox
          checked={all}
          indeterminate={!all && table.getIsSomePageRowsSelected()}
          disabled={rowCount === 0}
          onChange={table.getToggleAllPageRowsSelectedHandler()}
          aria-label={labels.page(rowCount)}
        />
      );
    },
    cell: ({ row }) => <Checkbox checked={row.getIsSelected()} indeterminate={false} disabled={!row.getCanSelect()} onChange={row.getToggleSelectedHandler()} aria-label={labels.row(row.original)} />,
  });
}
