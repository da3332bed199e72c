/*
 * bcryptprimitives.c — a stand-in bcryptprimitives.dll for running Go >= 1.22 Windows programs
 * under wine 8.0 (Debian 12), which has no bcryptprimitives.dll and so no ProcessPrng. The Go
 * runtime loads bcryptprimitives.dll at start-up and throws "bcryptprimitives.dll not found"
 * without it. Test tooling only: windows/setup-wine.sh builds it into the wine prefix's
 * system32; it is never shipped with the product.
 *
 * ProcessPrng fills the buffer from advapi32's SystemFunction036 (RtlGenRandom), which wine
 * implements over the host's random source. Like the real one it always returns TRUE.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* advapi32, alias RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* SystemFunction036 takes a ULONG length; feed it in chunks so any SIZE_T works. */
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst;
	(void)reason;
	(void)reserved;
	return TRUE;
}
