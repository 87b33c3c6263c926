#!/bin/bash
# Deterministic bash workload for the integration tests: pipelines,
# subshells, command and process substitution, here-documents, arrays and
# associative arrays (iterated in sorted order), background jobs with wait,
# string operations, and a non-zero exit status at the end (the harness
# checks that it is kept).
set -u
export LC_ALL=C

declare -a arr=()
declare -A assoc=()
for ((i = 0; i < 3000; i++)); do
    arr+=("item$((i * 7919 % 3001))")
    assoc["k$((i % 37))"]+="$i,"
done
echo "array: ${#arr[@]} elements, first ${arr[0]}, last ${arr[-1]}"
for k in $(printf '%s\n' "${!assoc[@]}" | sort -t k -k 2n | head -5); do
    v=${assoc[$k]}
    echo "assoc $k: ${#v} chars, ends ${v: -12}"
done

# Pipelines.
seq 1 20000 | awk '{ print $1 % 97, $1 }' | sort -k1,1n -k2,2nr | uniq -c -w 3 | tail -3
printf '%s\n' "${arr[@]}" | sort -u | wc -l
seq 1 5000 | tr '0-9' 'a-j' | paste -sd, | cut -c1-60

# Subshells and command substitution.
total=$(( $( (for i in $(seq 1 200); do echo $((i * i)); done) | paste -sd+) ))
echo "sum of squares: $total"
inner=$(
    cd /
    x=$(echo nested $(echo deeper $(echo deepest)))
    echo "$PWD $x"
)
echo "subshell: $inner, back in $(basename "$PWD")"
( exit 3 ); echo "subshell status: $?"

# Process substitution and here-documents.
diff <(seq 1 10) <(seq 1 10 | sed 's/^7$/seven/') || echo "diff status: $?"
while read -r name value; do
    printf '%-6s=%5d\n' "$name" "$((value * 3))"
done <<END
one 1
two 22
three 333
END
cat <<'END' | sed 's/x/y/g'
xxx literal $HOME
END

# Background jobs writing to files, then wait.
for j in 1 2 3 4; do
    (for ((i = 0; i < 2000; i++)); do echo "$j:$i"; done | sort -t: -k2,2nr > "job$j.txt") &
done
wait
cat job*.txt | cksum
rm -f job*.txt

# String operations.
s="The quick brown fox jumps over the lazy dog"
echo "${s^^}" "${s//o/0}" "${#s}" "${s:4:5}" "${s##* }" "${s%% *}"
words=($s)
IFS=- ; echo "${words[*]}"; unset IFS
echo "bash workload done" >&2
exit 5
