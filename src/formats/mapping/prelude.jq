def segs($tag): .segments[] | select(.[0] == $tag);
def seg($tag): first(segs($tag)) // null;
def el($i): if . == null then null else (.[$i] // null) end;
def first_rep: if type == "object" and has("repeat") then .repeat[0] else . end;
def comp($i; $j): el($i) | first_rep | if type == "array" then (.[$j] // null) elif $j == 0 then . else null end;
def val($i): comp($i; 0);
def as_list: if . == null then [] elif type == "array" then . else [.] end;
def blank_null: if . == "" then null else . end;
