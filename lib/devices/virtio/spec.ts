/**
 * Numbers from the virtio specification v1.2 (https://docs.oasis-open.org/virtio/virtio/v1.2/),
 * spelled as in the spec and in Linux's include/uapi/linux/virtio_*.h so grep against either works.
 */

// §2.1 Device Status Field
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// §6 Reserved Feature Bits
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

// §4.2.2 MMIO Device Register Layout (version 2)
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
export const VIRTIO_MMIO_STATUS = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
export const VIRTIO_MMIO_QUEUE_RESET = 0x0c0;
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
export const VIRTIO_MMIO_CONFIG = 0x100;
/** "virt" in little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x7472_6976;
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

// §2.7.5 The Virtqueue Descriptor Table
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
// §2.7.6 The Virtqueue Available Ring
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** §2.7: "The maximum Queue Size value is 32768". */
export const VIRTQ_MAX_SIZE = 32768;

// §5 Device Types
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;

// §5.2 Block Device
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_ID_BYTES = 20;
export const VIRTIO_BLK_SECTOR_SIZE = 512;
