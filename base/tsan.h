/* tsan.h - ThreadSanitizer annotations for hand-offs TSan cannot see.
 *
 * Debian's libzmq and czmq are not built with ThreadSanitizer, so TSan
 * does not know that a frame sent on one thread happens-before its
 * receipt on another, nor that a czmq actor's start/stop handshake
 * orders memory. CAIRN__HANDOFF_RELEASE(obj) before the hand-off and
 * CAIRN__HANDOFF_ACQUIRE(obj) after it state exactly that ordering and
 * nothing more: memory touched outside a hand-off still races. Without
 * TSan these compile to nothing.
 */
#ifndef CAIRN_TSAN_H_INCLUDED
#define CAIRN_TSAN_H_INCLUDED

#if defined(__SANITIZE_THREAD__)
#define CAIRN__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CAIRN__TSAN 1
#endif
#endif

#ifdef CAIRN__TSAN
void
__tsan_acquire(void *addr);
void
__tsan_release(void *addr);
#define CAIRN__HANDOFF_RELEASE(obj) __tsan_release((void *)(obj))
#define CAIRN__HANDOFF_ACQUIRE(obj) __tsan_acquire((void *)(obj))
#else
#define CAIRN__HANDOFF_RELEASE(obj) ((void)(obj))
#define CAIRN__HANDOFF_ACQUIRE(obj) ((void)(obj))
#endif

#endif
