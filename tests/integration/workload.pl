#!/usr/bin/perl
# Deterministic Perl workload for the integration tests: hashes (always
# iterated in sorted order, since Perl randomises hash order per process),
# regexes with captures and substitutions, sort with custom comparators,
# sprintf, string repetition, references and a self-referencing structure.
use strict;
use warnings;

my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed; }

my @words = qw(apple banana cherry date elder fig grape honeydew kiwi lemon mango nectarine);
my (%count, %len, @lines);
for my $i (1 .. 40000) {
    my $w = $words[rnd() % @words];
    my $n = rnd() % 1000;
    push @lines, sprintf("%06d:%s:%d:%s", $i, $w, $n, $w x (1 + $n % 5));
    $count{$w}++;
    $len{$w} += length($lines[-1]);
}
printf "lines: %d\n", scalar @lines;
for my $w (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count) {
    printf "%-10s %6d %8d %.3f\n", $w, $count{$w}, $len{$w}, $len{$w} / $count{$w};
}

my ($matched, $sum) = (0, 0);
my %by_digit;
for (@lines) {
    if (/^(\d+):([a-z]+):(\d+):((?:\2)+)$/) {
        $matched++;
        $sum += $3;
        push @{ $by_digit{ substr($1, -1) } }, length $4;
    }
}
printf "matched %d, sum %d\n", $matched, $sum;
for my $d (sort keys %by_digit) {
    my @l = sort { $a <=> $b } @{ $by_digit{$d} };
    printf "digit %s: n=%d min=%d median=%d max=%d\n", $d, scalar @l, $l[0], $l[$#l / 2], $l[-1];
}

my $text = join "\n", @lines[0 .. 999];
(my $masked = $text) =~ s/(\d)(\d)/$2$1/g;
my $vowels = () = $text =~ /[aeiou]/g;
$masked =~ tr/a-z/A-Z/;
printf "vowels %d, masked length %d, first: %s\n", $vowels, length $masked, (split /\n/, $masked)[0];

my @sorted = sort { (split /:/, $a)[2] <=> (split /:/, $b)[2] or $a cmp $b } @lines[0 .. 4999];
print "sorted head: $sorted[0]\nsorted tail: $sorted[-1]\n";

my %tree;
$tree{$_ % 97}{$_ % 13}{$_} = [$_, "v$_"] for 1 .. 20000;
my $leaves = 0;
for my $a (keys %tree) { for my $b (keys %{ $tree{$a} }) { $leaves += keys %{ $tree{$a}{$b} } } }
print "tree leaves: $leaves\n";

my $ring = { name => 'ring' };
$ring->{self} = $ring;  # a reference cycle Perl never frees (refcounting)
my $big = 'x' x (8 << 20);
printf "big: %d, ring: %s\n", length $big, $ring->{self}{self}{name};
print STDERR "workload.pl: done\n";
exit 0;
