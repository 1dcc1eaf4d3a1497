# Broker invoice / duty statement (semicolon CSV, one row per duty line) ->
# canonical duty statement for the reconciliation batch. Amounts stay decimal strings.
def money: if . == null or . == "" then null else gsub(","; ".") end;

.rows as $rows
| if ($rows | length) == 0 then error("broker-invoice-csv: the statement has no rows") else . end
| {
    status: "CLEARED",
    kind: "duty_statement",
    invoice_number: $rows[0].invoice_number,
    invoice_date: $rows[0].invoice_date,
    currency: $rows[0].currency,
    declarations: [
      $rows | group_by(.lrn)[] | {
        lrn: .[0].lrn,
        mrn: .[0].entry_number,
        lines: [.[] | select(.duty_type != "FEE") | {
          line: (.line | tonumber),
          hs_code: .commodity_code,
          tax: .duty_type,
          base: (.tax_base | money),
          rate_percent: (.rate_percent | money),
          amount: (.amount | money),
          currency: .currency
        }]
      }
    ],
    fees: [$rows[] | select(.duty_type == "FEE") | {description: .description, amount: (.amount | money)}]
  }
