date | grep -c '^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC [0-9]+$'
date -u | grep -c UTC
date -n | grep -c '^[0-9]+$'
date -x
-- stdout --
1
1
1
-- stderr --
usage: date [-nu]
ember: usage
-- status --
1
