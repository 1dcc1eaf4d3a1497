# Broker answers (UN/EDIFACT) -> canonical status. CUSRES D.96B per broker MIG v1
# (GIS processing indicators in $tables.status.cusres_gis) and CONTRL.
def iso203: if . == null then null else .[0:4] + "-" + .[4:6] + "-" + .[6:8] + "T" + .[8:10] + ":" + .[10:12] + ":00Z" end;
def number($mark): if . == null then null elif $mark == "," then gsub(","; ".") else . end;

. as $ic
| ($ic.separators.decimal) as $mark
| (seg("UNB") | val(5)) as $interchange
| (seg("UNH") | comp(2; 0)) as $type
| if $type == "CONTRL" then
    seg("UCI") as $uci
    | [segs("UCM") | select(val(3) == "4") | {message_ref: val(1), code: val(4)}] as $rejected
    | {
        message: "CONTRL",
        status: (if ($uci | val(4)) == "4" or ($rejected | length) > 0 then "REJECTED" else "RECEIVED" end),
        interchange_ref: $interchange,
        acknowledged_interchange: ($uci | val(1)),
        action: ($uci | val(4)),
        errors: ([($uci | val(5) | select(. != null) | {message_ref: null, code: .})] + $rejected)
      }
  elif $type == "CUSRES" then
    (seg("GIS") | val(1)) as $indicator
    | {
        message: "CUSRES",
        status: ($tables.status.cusres_gis[$indicator]
                 // error("CUSRES GIS processing indicator \($indicator) is not in the status table")),
        indicator: $indicator,
        interchange_ref: $interchange,
        lrn: (first(segs("RFF") | select(comp(1; 0) == "ABE") | comp(1; 1)) // (seg("BGM") | val(2))),
        mrn: (first(segs("RFF") | select(comp(1; 0) == "ABT") | comp(1; 1)) // null),
        issued_at: (first(segs("DTM") | select(comp(1; 0) == "137") | comp(1; 1)) | iso203),
        errors: (reduce .segments[] as $s ({point: null, out: []};
                   if $s[0] == "ERP" then .point = ($s | el(1) | if type == "array" then join(":") else . end)
                   elif $s[0] == "ERC" then .out += [{point: .point, code: ($s | val(1))}]
                   else . end) | .out),
        remarks: [segs("FTX") | comp(4; 0)],
        duties: (reduce .segments[] as $s ({tax: null, out: []};
                   if $s[0] == "TAX" then .tax = ($s | comp(2; 0))
                   elif $s[0] == "MOA" and .tax != null then
                     .out += [{tax: .tax, amount: ($s | comp(1; 1) | number($mark)), currency: ($s | comp(1; 2))}]
                   else . end) | .out)
      }
  else
    error("edifact-broker sends CUSRES and CONTRL, not \($type)")
  end
