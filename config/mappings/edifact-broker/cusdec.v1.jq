# Canonical export declaration -> UN/EDIFACT CUSDEC D.96B (broker MIG v1).
# $partner.codec: sender, recipient; $ctx: control_ref, date (CCYYMMDD), time (HHMM).
def party($qualifier; $p):
  ["NAD", $qualifier, (if $p.eori then [$p.eori, "", "ZZZ"] else "" end), "", $p.name,
   $p.address.street, $p.address.city, "", $p.address.postcode, $p.address.country];

def item($l; $currency):
  ["CST", ($l.line | tostring), [$l.hs_code, "", "9"]],
  ["FTX", "AAA", "", "", $l.description],
  ["LOC", "27", $l.origin],
  ["MEA", "AAE", "AAL", ["KGM", $l.net_mass]],
  ["MEA", "AAE", "G", ["KGM", $l.gross_mass]],
  ["MEA", "AAE", "SQ", [$l.unit, $l.quantity]],
  ["MOA", ["146", $l.value, $currency]];

. as $d
| ($ctx.control_ref // "1") as $ref
| [
    ["BGM", "830", $d.lrn, "9"],
    ["LOC", "42", $d.office_of_exit],
    ["DTM", ["137", ($d.declared_at[0:10] | gsub("-"; "")), "102"]],
    ["RFF", ["ABE", $d.lrn]],
    ["TDT", "27", "", $d.transport.mode, "", "", "", "", ["", "", "", $d.transport.vessel]],
    party("EX"; $d.exporter),
    party("CN"; $d.consignee),
    party("DT"; $d.declarant),
    ["TOD", "", "", [$d.incoterm, "", "", $d.incoterm_place]],
    ["MOA", ["39", $d.invoice_total, $d.currency]],
    ["CUX", ["2", $d.currency, "4"]],
    ["UNS", "D"],
    ($d.lines[] | item(.; $d.currency)),
    ["UNS", "S"],
    ["CNT", ["5", ($d.lines | length | tostring)]]
  ] as $body
| {
    una: true,
    separators: { component: ":", element: "+", decimal: ".", release: "?", repetition: "*", segment: "'" },
    segments: (
      [["UNB", ["UNOC", "4"], [$partner.codec.sender, "ZZZ"], [$partner.codec.recipient, "ZZZ"],
        [$ctx.date, $ctx.time], $ref]]
      + [["UNH", "1", ["CUSDEC", "D", "96B", "UN"]]]
      + $body
      + [["UNT", (($body | length) + 2 | tostring), "1"]]
      + [["UNZ", "1", $ref]]
    )
  }
