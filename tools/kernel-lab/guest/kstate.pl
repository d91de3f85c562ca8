#!/usr/bin/perl
# The kernel's own answer, read inside a kernel-lab guest without passthru: every PCI function's
# driver, driver_override, IOMMU group, network interfaces, SR-IOV state and reset methods, the
# loaded modules, the /dev/vfio nodes, /proc/iomem, and for each group whose node exists the
# kernel's verdict VFIO_GROUP_GET_STATUS (the question QEMU and libvirt ask). Prints one JSON object.
use strict;
use warnings;
use JSON::PP;
use Fcntl qw(O_RDWR);

# _IO(VFIO_TYPE ';', VFIO_BASE + 3); struct vfio_group_status { __u32 argsz; __u32 flags; }
use constant VFIO_GROUP_GET_STATUS => 0x3b67;
use constant VFIO_GROUP_FLAGS_VIABLE => 1;

sub slurp { my ($p) = @_; open(my $fh, '<', $p) or return undef; local $/; my $s = <$fh>; close $fh; $s =~ s{\n\z}{} if defined $s; return $s; }
sub link_name { my $t = readlink($_[0]); return defined $t ? (split m{/}, $t)[-1] : undef; }

my $pci = '/sys/bus/pci/devices';
my %devices;
opendir(my $dh, $pci) or die "no $pci";
for my $addr (sort grep { !/^\./ } readdir $dh) {
  my $d = "$pci/$addr";
  my $override = slurp("$d/driver_override");
  my @net = -d "$d/net" ? do { opendir(my $n, "$d/net"); my @x = sort grep { !/^\./ } readdir $n; @x } : ();
  $devices{$addr} = {
    vendor => slurp("$d/vendor"), device => slurp("$d/device"), class => slurp("$d/class"),
    driver => link_name("$d/driver"),
    driverOverride => (defined $override && $override ne '(null)') ? $override : undef,
    iommuGroup => do { my $g = link_name("$d/iommu_group"); defined $g ? $g + 0 : undef },
    net => \@net,
    sriovNumvfs => do { my $v = slurp("$d/sriov_numvfs"); defined $v ? $v + 0 : undef },
    physfn => link_name("$d/physfn"),
    resetMethod => slurp("$d/reset_method"),
  };
}
closedir $dh;

my %groups;
if (opendir(my $gh, '/sys/kernel/iommu_groups')) {
  for my $g (sort { $a <=> $b } grep { /^\d+$/ } readdir $gh) {
    opendir(my $m, "/sys/kernel/iommu_groups/$g/devices");
    my @members = sort grep { !/^\./ } readdir $m;
    closedir $m;
    my ($viable, $error) = (undef, undef);
    if (-e "/dev/vfio/$g") {
      if (sysopen(my $fh, "/dev/vfio/$g", O_RDWR)) {
        my $status = pack('LL', 8, 0);
        if (ioctl($fh, VFIO_GROUP_GET_STATUS, $status)) {
          my (undef, $flags) = unpack('LL', $status);
          $viable = ($flags & VFIO_GROUP_FLAGS_VIABLE) ? JSON::PP::true : JSON::PP::false;
        } else { $error = "ioctl: $!"; }
        close $fh;
      } else { $error = "open: $!"; }
    }
    $groups{$g} = { devices => \@members, vfioNode => (-e "/dev/vfio/$g") ? JSON::PP::true : JSON::PP::false, viable => $viable, error => $error };
  }
  closedir $gh;
}

my @modules = map { (split / /)[0] } split /\n/, (slurp('/proc/modules') // '');
my @vfio = -d '/dev/vfio' ? do { opendir(my $v, '/dev/vfio'); my @x = sort grep { !/^\./ } readdir $v; @x } : ();
# /proc/iomem as root reads it: who holds which physical range (a firmware framebuffer inside a BAR).
my $iomem = slurp('/proc/iomem');
print JSON::PP->new->canonical->pretty->encode({ devices => \%devices, groups => \%groups, iomem => $iomem, modules => [sort @modules], vfioNodes => \@vfio }), "\n";
