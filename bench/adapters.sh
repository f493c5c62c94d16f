#!/usr/bin/env bash
# Rows per second of each adapter on about a million rows: one synthetic month at
# --scale 50 (EnvisionWare, Libki, Symphony, Meraki JSON). Prints figures only.
TALLY_BENCH_DIR="${TALLY_BENCH_DIR:-/tmp/tally-bench-adapters}"
source "$(dirname "$0")/common.sh"
rm -rf "$WORK"; mkdir -p "$WORK"
"$BIN" synth --out "$WORK/inbox" --days 31 --scale 50 --no-malformed > /dev/null
run() { # label, extra args, files...
  local label=$1 extra=$2; shift 2
  local lake="$WORK/lake-$label"
  local code=0
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" ingest --lake "$lake" --sites "$WORK/inbox/sites.toml" --json $extra "$@" > "$WORK/out.json" 2>/dev/null || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then echo "$label failed ($code)"; return; fi
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  rows=$(python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out.json'))))")
  mb=$(du -cb "$@" | tail -1 | cut -f1)
  printf '%-16s %9d rows %7.1f MB in %6.2f s  %9.0f rows/s  peak %5d MB\n' "$label" "$rows" "$(python3 -c "print($mb/1e6)")" "$secs" "$(python3 -c "print($rows/$secs)")" "$((kb/1024))"
}
run envisionware "" "$WORK"/inbox/envisionware/*.csv
run libki "" "$WORK"/inbox/libki/*.csv
run symphony-hist "--strip-prefix EPL" "$WORK"/inbox/symphony/*.hist
run meraki-json "--site CEN" "$WORK"/inbox/meraki/*/*.json

# The other formats: a million rows each, made by repeating one realistic row with
# unique identifiers (so none is a duplicate of another).
N="${TALLY_BENCH_ROWS:-1000000}"
gen() { # file, header, template with {i}
  python3 - "$1" "$2" "$3" "$N" <<'PY'
import sys
path, header, template, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(path, "w", newline="") as f:
    f.write(header.replace("\\n", "\n").replace("\\t", "\t") + "\n")
    t = template.replace("\\n", "\n").replace("\\t", "\t")
    rows = (t.replace("{i}", str(i)).replace("{h}", "%012x" % i) for i in range(n))
    f.writelines(r + "\n" for r in rows)
PY
}
S="tests/data"
O="$WORK/gen"; mkdir -p "$O"
gen "$O/koha.csv" "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface" "2026-06-10 10:01:02,T1,0,issue,,{i},BK,ADULT,{i},FIC,PT,intranet"
gen "$O/old_issues.csv" "issue_id,borrowernumber,itemnumber,date_due,branchcode,returndate,lastreneweddate,renewals_count,auto_renew,issuedate,onsite_checkout,timestamp" "{i},52,{i},2026-06-24 23:59:00,T1,2026-06-20 15:00:00,2026-06-17 10:00:00,1,0,2026-06-03 10:00:00,0,2026-06-20 15:00:00"
gen "$O/evergreen.csv" "id,usr,xact_start,xact_finish,target_copy,circ_lib,circ_staff,checkin_staff,checkin_lib,checkin_time,due_date,phone_renewal,desk_renewal,opac_renewal,auto_renewal,parent_circ" "{i},77,2026-06-01 10:00:00-05,,{i},T1,5,6,N1,2026-06-08 12:00:00-05,2026-06-15 23:59:59-05,f,f,f,f,"
gen "$O/osticket.csv" "Ticket Number,Date Created,Subject,From,From Email,Priority,Department,Help Topic,Source,Current Status,Last Updated,SLA Due Date,Due Date,Closed Date,Overdue,Merged,Linked,Answered,Agent Assigned,Team Assigned,Thread Count,Reopen Count,Attachment Count,Task Count,Location,Asset Tag" "{i},06/01/2026 09:15 AM,PC frozen,Desk,desk@example.org,High,IT,Public PCs,Web,Closed,06/01/2026 11:00 AM,,,06/01/2026 10:45 AM,No,No,No,Yes,Sam,,3,0,0,0,Town,PC-{i}"
gen "$O/rt.tsv" "id\tSubject\tStatus\tQueue\tOwner\tPriority\tCreated\tResolved\tLocation\tAsset" "{i}\tSlow\topen\tIT\tjdoe\t50\t2026-06-01 09:00:00\t\tNight\tSTF-{i}"
gen "$O/glpi.csv" "ID;Title;Entity;Status;Last update;Opening date;Priority;Requester - Requester;Assigned to - Technician;Category;Location;Resolution date" "{i};Scanner;Root;Processing (assigned);2026-06-05 10:00;2026-06-05 09:00;Very high;front;mlee;Hardware;Night;"
gen "$O/jira.csv" "Summary,Issue key,Issue id,Issue Type,Status,Project key,Priority,Resolution,Assignee,Reporter,Creator,Created,Updated,Last Viewed,Resolved,Labels,Labels,Custom field (Request Type),Custom field (Branch),Custom field (Asset Tag)" "PC,IT-{i},{i},Service Request,Done,IT,Highest,Done,Ana,Desk,Desk,14/Jul/25 3:42 PM,15/Jul/25 9:00 AM,,15/Jul/25 8:30 AM,pc,public,Hardware,Town,PC-{i}"
gen "$O/snipeit.csv" "Asset Tag,Item Name,Category,Manufacturer,Model Name,Model Number,Serial,Location,Status,Purchase Date,Purchase Cost,Order Number,Warranty" "PC-{i},Public,Public Computers,Dell,OptiPlex,D17M,SN{i},Town,Deployed,2021-03-15,\$1099.00,PO-7,36"
gen "$O/inventory.csv" "asset_tag,kind,site,model,purchased,cost,life_years,status,retired" "LT-{i},laptop,Night,T14,2024-01-10,1300,4,active,"
gen "$O/totals.csv" "_id,Year,BranchCode,Sessions" "{i},2012,T1,{i}"
gen "$O/Computer_Sessions_2017.csv" "LOCATION,JANUARY,FEBRUARY,MARCH,APRIL,MAY,JUNE,JULY,AUGUST,SEPTEMBER,OCTOBER,NOVEMBER,DECEMBER,YTD" "Town,{i},1,1,1,1,1,1,1,1,1,1,1,"
gen "$O/history.csv" "Username,Client,Action,Timestamp,Info" "u{i},PC1,LOGIN,06/10/2026 10:15 AM,\nu{i},PC1,LOGOUT,06/10/2026 11:00 AM,"
gen "$O/meraki.csv" "Description,MAC address,IPv4 address,First seen,Last seen,SSID,Usage (kB)" "d,{h},10.1.0.5,2026-06-02 10:00,2026-06-02 12:00,Library-Public,2048"
gen "$O/PC01.csv" "Keywords,Date and Time,Source,Event ID,Task Category" 'Audit Success,6/10/2026 9:00:00 AM,Security,4624,Logon,"New Logon:\n\tAccount Name:\t\tp{i}\n\tLogon ID:\t\t0x{h}\nLogon Information:\n\tLogon Type:\t\t2"\nAudit Success,6/10/2026 9:45:00 AM,Security,4634,Logoff,"Subject:\n\tAccount Name:\t\tp{i}\n\tLogon ID:\t\t0x{h}"'
gen "$O/papercut-print-log-2026-06.csv" 'PaperCut Print Logger - http://www.papercut.com/\nTime,User,Pages,Copies,Printer,Document Name,Client,Paper Size,Language,Height,Width,Duplex,Grayscale,Size' '2026-06-10 10:15:00,2122100{i},3,1,\\PRINTSRV\T1-Public-BW,"Doc, {i}.pdf",T1-PC01,LETTER,PCL6,11 in,8.5 in,NOT DUPLEX,GRAYSCALE,19kb,'
SITES=(--sites "$S/sites.toml")
for spec in "koha-statistics|koha.csv|" "koha-old-issues|old_issues.csv|" "evergreen-circ|evergreen.csv|" "osticket|osticket.csv|" "rt|rt.tsv|" "glpi|glpi.csv|" "jira|jira.csv|" "snipe-it|snipeit.csv|" "inventory|inventory.csv|" "totals-long|totals.csv|" "totals-wide|Computer_Sessions_2017.csv|" "libki-history|history.csv|--site N1" "meraki-csv|meraki.csv|--site T1" "windows-events|PC01.csv|--site T1" "papercut|papercut-print-log-2026-06.csv|"; do
  IFS='|' read -r label file extra <<< "$spec"
  lake="$WORK/lake-$label"
  code=0
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" ingest --lake "$lake" "${SITES[@]}" --json $extra "$O/$file" > "$WORK/out.json" 2>/dev/null || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then echo "$label failed ($code)"; continue; fi
  read -r secs kb < <(tail -n 1 "$WORK/time.txt")
  rows=$(python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out.json'))))")
  printf '%-16s %9d rows %7.1f MB in %6.2f s  %9.0f rows/s  peak %5d MB\n' "$label" "$rows" "$(python3 -c "import os;print(os.path.getsize('$O/$file')/1e6)")" "$secs" "$(python3 -c "print($rows/$secs)")" "$((kb/1024))"
done
