# Carrier X12 214 (AT7 shipment status) and 315 (B4 ocean status) -> canonical milestones.
# Every status line becomes an event; `status` is the milestone of the latest event
# (by event date/time, document order breaking ties).
def at($d; $t): if $d == null or $d == "" then null
  else $d[0:4] + "-" + $d[4:6] + "-" + $d[6:8] + (if ($t // "") == "" then "" else "T" + $t[0:2] + ":" + $t[2:4] end) end;
def milestone($table; $set; $code): $table[$code]
  // error("carrier-x12: \($set) status code \($code) is not in the status table");

reduce .segments[] as $s (
  {set: null, carrier: null, refs: {}, events: []};
  if $s[0] == "ST" then .set = ($s | val(1))
  elif $s[0] == "B10" then
    .carrier = ($s | val(3)) | .refs.carrier_reference = ($s | val(1)) | .refs.shipment_id = ($s | val(2))
  elif $s[0] == "L11" then .refs[($s | val(2) // "L11")] = ($s | val(1))
  elif $s[0] == "N9" then .refs[($s | val(1))] = ($s | val(2))
  elif $s[0] == "AT7" and (($s | val(1)) // "") != "" then
    .set as $set
    | .events += [{
        set: $set, code: ($s | val(1)), reason: ($s | val(2) | blank_null),
        milestone: milestone($tables.status.x12_214_at7; $set; ($s | val(1))),
        at: at($s | val(5); $s | val(6)), time_code: ($s | val(7) | blank_null)
      }]
  elif $s[0] == "B4" then
    .set as $set
    | .events += [{
        set: $set, code: ($s | val(3)),
        milestone: milestone($tables.status.x12_315_b4; $set; ($s | val(3))),
        at: at($s | val(4); $s | val(5)),
        equipment: ((($s | val(7)) // "") + (($s | val(8)) // "") | blank_null),
        location: ($s | val(11) | blank_null)
      }]
    | .carrier = (.carrier // null)
  else . end
)
| if (.events | length) == 0 then error("carrier-x12: no AT7 or B4 status in the interchange") else . end
| {
    status: (.events | sort_by(.at) | last | .milestone),
    carrier: (.carrier // .refs.SCA // null),
    references: .refs,
    events: .events
  }
