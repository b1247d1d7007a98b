from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from sensorgrid import __version__
from sensorgrid.health import checks


@csrf_exempt
@never_cache
@require_safe
def healthz(request):
    """The process is alive and serving. No I/O, so it never flaps with a dependency."""
    return JsonResponse({"status": "ok", "version": __version__})


@csrf_exempt
@never_cache
@require_safe
def readyz(request):
    """Every dependency this process needs answers; 503 names the ones that do not."""
    results = checks.run_all()
    ready = all(result.ok for result in results if result.required)
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {
            result.name: {
                "status": "ok" if result.ok else "down",
                "latency_ms": result.latency_ms,
                **({"error": result.error} if result.error else {}),
            }
            for result in results
        },
    }
    return JsonResponse(body, status=200 if ready else 503)
