# UK CDS DMS notification (WCO RES, MetaData wrapper) -> canonical status.
# Prefixes differ between senders (none, md:, _2:), so names are compared without them.
def local: sub("^[^:@#]*:"; "");
def as_list: if . == null then [] elif type == "array" then . else [.] end;
# Siblings that differ only by prefix (_2_1:Declaration, _2_3:Declaration) are gathered into a list.
def unprefix: walk(if type == "object" then
    reduce to_entries[] as $e ({}; ($e.key | local) as $k
      | if has($k) then .[$k] = ((.[$k] | as_list) + ($e.value | as_list)) else .[$k] = $e.value end)
  else . end);
def text: if type == "object" then .["#text"] else . end;

# The root is MetaData in every sample, but one HMRC sample mangles it to `_2MetaData`;
# the Response under whatever single root there is is what counts.
unprefix
| ((to_entries | first | .value.Response)? // error("no Response under the notification root")) as $r
| ($r.Declaration | as_list | map(select(.ID != null or .FunctionalReferenceID != null)) | first // {}) as $decl
| ($r.FunctionCode | text) as $code
| ($r.Status | as_list | map(.NameCode | text) | map(select(. != null and . != ""))) as $names
| (if $code == "11" then
     ($names | map($tables.status.cds_request_name_codes[.]) | map(select(. != null)) | first)
       // error("DMSREQ (11) without a known customs position name code: \($names)")
   else
     $tables.status.cds_function_codes[$code]
       // error("CDS notification function code \($code) is not in the status table")
   end) as $status
| {
    status: $status,
    function_code: $code,
    notification: $tables.status.cds_message_names[$code],
    event: (if $code == "13" then "TAX_CALCULATED" else null end),
    lrn: ($decl.FunctionalReferenceID | text),
    mrn: ($decl.ID | text),
    issued_at: ($r.IssueDateTime.DateTimeString | text),
    errors: [$r.Error | as_list | .[] | {code: (.ValidationCode | text), description: (.Description | text)}]
  }
