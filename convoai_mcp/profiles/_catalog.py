# ruff: noqa: E501
"""Generated from agora-agents 2.12.0 by ``python tests/_profile_catalog_gen.py``.

For every vendor class of the official SDK: its stage, area, the vendor name it sends, its
parameters, and the shape of its ``to_config()`` JSON (see ``tests/_profile_catalog_gen.py``).
"""

from typing import Any

SDK_VERSION = "2.12.0"

CATALOG: dict[str, dict[str, Any]] = {
    "FengmingSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["fengming"],
        "fields": {
            "keywords": {"type": "list", "items": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "fengming"},
        "when": {
            "keywords": [{"path": ["keywords"], "value": {"$": "keywords"}}],
            "additional_params": [{"path": ["params"], "value": {"$": "additional_params"}}],
        },
    },
    "MicrosoftCNSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["microsoft"],
        "fields": {
            "key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "phrase_list": {"type": "list", "items": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "microsoft",
            "params": {
                "key": {"$": "key"},
                "region": {"$": "region"},
                "language": {"$": "language"},
            },
        },
        "when": {
            "phrase_list": [{"path": ["params", "phrase_list"], "value": {"$": "phrase_list"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "TencentSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["tencent"],
        "fields": {
            "key": {"type": "str", "required": True},
            "app_id": {"type": "str", "required": True},
            "secret": {"type": "str", "required": True},
            "engine_model_type": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": True},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "tencent",
            "params": {
                "key": {"$": "key"},
                "app_id": {"$": "app_id"},
                "secret": {"$": "secret"},
                "engine_model_type": {"$": "engine_model_type"},
                "voice_id": {"$": "voice_id"},
            },
        },
        "when": {"additional_params": [{"path": ["params"], "merge": "additional_params"}]},
    },
    "XfyunBigModelSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["xfyun_bigmodel"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "app_id": {"type": "str", "required": False},
            "api_secret": {"type": "str", "required": False},
            "language_name": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "xfyun_bigmodel", "params": {}},
        "when": {
            "api_key": [{"path": ["params", "api_key"], "value": {"$": "api_key"}}],
            "app_id": [{"path": ["params", "app_id"], "value": {"$": "app_id"}}],
            "api_secret": [{"path": ["params", "api_secret"], "value": {"$": "api_secret"}}],
            "language_name": [
                {"path": ["params", "language_name"], "value": {"$": "language_name"}}
            ],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "XfyunDialectSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["xfyun_dialect"],
        "fields": {
            "app_id": {"type": "str", "required": False},
            "access_key_id": {"type": "str", "required": False},
            "access_key_secret": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "xfyun_dialect", "params": {}},
        "when": {
            "app_id": [{"path": ["params", "app_id"], "value": {"$": "app_id"}}],
            "access_key_id": [
                {"path": ["params", "access_key_id"], "value": {"$": "access_key_id"}}
            ],
            "access_key_secret": [
                {"path": ["params", "access_key_secret"], "value": {"$": "access_key_secret"}}
            ],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "XfyunSTT": {
        "stage": "asr",
        "area": "cn",
        "names": ["xfyun"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "app_id": {"type": "str", "required": False},
            "api_secret": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "xfyun", "params": {}},
        "when": {
            "api_key": [{"path": ["params", "api_key"], "value": {"$": "api_key"}}],
            "app_id": [{"path": ["params", "app_id"], "value": {"$": "app_id"}}],
            "api_secret": [{"path": ["params", "api_secret"], "value": {"$": "api_secret"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "AmazonSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["amazon"],
        "fields": {
            "access_key": {"type": "str", "required": True},
            "secret_key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "amazon",
            "params": {
                "access_key_id": {"$": "access_key"},
                "secret_access_key": {"$": "secret_key"},
                "region": {"$": "region"},
                "language_code": {"$": "language"},
            },
        },
        "when": {"additional_params": [{"path": ["params"], "merge": "additional_params"}]},
    },
    "AresSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["ares"],
        "fields": {
            "keywords": {"type": "list", "items": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "ares"},
        "when": {
            "keywords": [{"path": ["keywords"], "value": {"$": "keywords"}}],
            "additional_params": [{"path": ["params"], "value": {"$": "additional_params"}}],
        },
    },
    "AssemblyAISTT": {
        "stage": "asr",
        "area": "global",
        "names": ["assemblyai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "ws_url": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "assemblyai",
            "params": {"api_key": {"$": "api_key"}, "language": {"$": "language"}},
        },
        "when": {
            "ws_url": [{"path": ["params", "ws_url"], "value": {"$": "ws_url"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "DeepgramSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["deepgram"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "keyterm": {"type": "str", "required": False},
            "smart_format": {"type": "bool", "required": False},
            "punctuation": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "deepgram", "params": {"key": {"$": "api_key"}}},
        "when": {
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "keyterm": [{"path": ["params", "keyterm"], "value": {"$": "keyterm"}}],
            "smart_format": [{"path": ["params", "smart_format"], "value": {"$": "smart_format"}}],
            "punctuation": [{"path": ["params", "punctuation"], "value": {"$": "punctuation"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {"vendor": "deepgram", "params": {"model": {"$": "model"}}},
                "when": {
                    "api_key": [{"path": ["params", "key"], "value": {"$": "api_key"}}],
                    "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
                    "keyterm": [{"path": ["params", "keyterm"], "value": {"$": "keyterm"}}],
                    "smart_format": [
                        {"path": ["params", "smart_format"], "value": {"$": "smart_format"}}
                    ],
                    "punctuation": [
                        {"path": ["params", "punctuation"], "value": {"$": "punctuation"}}
                    ],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                },
            }
        ],
    },
    "GeminiSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["gemini"],
        "fields": {
            "api_key": {"type": "str", "required": True, "min_length": 1},
            "model": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "language_hints": {"type": "list", "items": "str", "required": False},
            "language_codes": {"type": "list", "items": "str", "required": False},
            "custom_vocabulary": {"type": "list", "items": "str", "required": False},
            "word_timestamp": {"type": "bool", "required": False},
            "mode": {"type": "any", "hint": ["SMART", "VERBATIM"], "required": False},
            "diarization": {"type": "bool", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "gemini",
            "params": {
                "api_key": {"$": "api_key"},
                "model": "gemini-3.5-transcribe-live",
                "sample_rate": 16000,
            },
        },
        "when": {
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "language_hints": [
                {"path": ["params", "language_hints"], "value": {"$": "language_hints"}}
            ],
            "language_codes": [
                {"path": ["params", "language_hints"], "value": {"$": "language_codes"}}
            ],
            "custom_vocabulary": [
                {"path": ["params", "custom_vocabulary"], "value": {"$": "custom_vocabulary"}}
            ],
            "word_timestamp": [
                {"path": ["params", "word_timestamp"], "value": {"$": "word_timestamp"}}
            ],
            "mode": [{"path": ["params", "mode"], "value": {"$": "mode"}}],
            "diarization": [{"path": ["params", "diarization"], "value": {"$": "diarization"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "order": ["language_codes", "language_hints"],
    },
    "GoogleSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["google"],
        "fields": {
            "project_id": {"type": "str", "required": True},
            "location": {"type": "str", "required": True},
            "adc_credentials_string": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "google",
            "params": {
                "project_id": {"$": "project_id"},
                "location": {"$": "location"},
                "adc_credentials_string": {"$": "adc_credentials_string"},
                "language": {"$": "language"},
            },
        },
        "when": {
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "MicrosoftSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["microsoft"],
        "fields": {
            "key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "microsoft",
            "params": {
                "key": {"$": "key"},
                "region": {"$": "region"},
                "language": {"$": "language"},
            },
        },
        "when": {"additional_params": [{"path": ["params"], "merge": "additional_params"}]},
    },
    "OpenAISTT": {
        "stage": "asr",
        "area": "global",
        "names": ["openai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "prompt": {"type": "str", "required": False},
            "input_audio_transcription": {"type": "dict", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "openai",
            "params": {
                "api_key": {"$": "api_key"},
                "input_audio_transcription": {
                    "model": "gpt-4o-mini-transcribe",
                    "prompt": {"$": "prompt"},
                    "language": {"$": "language"},
                },
            },
        },
        "when": {
            "model": [
                {"path": ["params", "input_audio_transcription", "model"], "value": {"$": "model"}}
            ],
            "input_audio_transcription": [
                {
                    "path": ["params", "input_audio_transcription"],
                    "merge": "input_audio_transcription",
                }
            ],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "SarvamSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["sarvam"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "sarvam",
            "params": {"api_key": {"$": "api_key"}, "language": {"$": "language"}},
        },
        "when": {
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "SmallestAISTT": {
        "stage": "asr",
        "area": "global",
        "names": ["smallestai"],
        "fields": {
            "api_key": {"type": "str", "required": True, "min_length": 1},
            "language": {"type": "str", "required": False},
            "url": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False, "gt": 0},
            "encoding": {"type": "str", "required": False},
            "word_timestamps": {"type": "bool", "required": False},
            "sentence_timestamps": {"type": "bool", "required": False},
            "diarize": {"type": "bool", "required": False},
            "vad_events": {"type": "bool", "required": False},
            "endpointing": {"type": "bool", "required": False},
            "eou_timeout_ms": {"type": "int", "required": False, "ge": 0},
            "format": {"type": "bool", "required": False},
            "finalize_on_words": {"type": "bool", "required": False},
            "max_words": {"type": "str", "required": False},
            "punctuate": {"type": "bool", "required": False},
            "capitalize": {"type": "bool", "required": False},
            "itn_normalize": {"type": "bool", "required": False},
            "full_transcript": {"type": "bool", "required": False},
            "keywords": {"type": "str", "required": False},
            "redact_pii": {"type": "bool", "required": False},
            "redact_pci": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "smallestai", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "url": [{"path": ["params", "url"], "value": {"$": "url"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "encoding": [{"path": ["params", "encoding"], "value": {"$": "encoding"}}],
            "word_timestamps": [
                {"path": ["params", "word_timestamps"], "value": {"$boolstr": "word_timestamps"}}
            ],
            "sentence_timestamps": [
                {
                    "path": ["params", "sentence_timestamps"],
                    "value": {"$boolstr": "sentence_timestamps"},
                }
            ],
            "diarize": [{"path": ["params", "diarize"], "value": {"$boolstr": "diarize"}}],
            "vad_events": [{"path": ["params", "vad_events"], "value": {"$boolstr": "vad_events"}}],
            "endpointing": [
                {"path": ["params", "endpointing"], "value": {"$boolstr": "endpointing"}}
            ],
            "eou_timeout_ms": [
                {"path": ["params", "eou_timeout_ms"], "value": {"$": "eou_timeout_ms"}}
            ],
            "format": [{"path": ["params", "format"], "value": {"$boolstr": "format"}}],
            "finalize_on_words": [
                {
                    "path": ["params", "finalize_on_words"],
                    "value": {"$boolstr": "finalize_on_words"},
                }
            ],
            "max_words": [{"path": ["params", "max_words"], "value": {"$": "max_words"}}],
            "punctuate": [{"path": ["params", "punctuate"], "value": {"$boolstr": "punctuate"}}],
            "capitalize": [{"path": ["params", "capitalize"], "value": {"$boolstr": "capitalize"}}],
            "itn_normalize": [
                {"path": ["params", "itn_normalize"], "value": {"$boolstr": "itn_normalize"}}
            ],
            "full_transcript": [
                {"path": ["params", "full_transcript"], "value": {"$boolstr": "full_transcript"}}
            ],
            "keywords": [{"path": ["params", "keywords"], "value": {"$": "keywords"}}],
            "redact_pii": [{"path": ["params", "redact_pii"], "value": {"$boolstr": "redact_pii"}}],
            "redact_pci": [{"path": ["params", "redact_pci"], "value": {"$boolstr": "redact_pci"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "SpeechmaticsSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["speechmatics"],
        "fields": {
            "key": {"type": "str", "required": False},
            "api_key": {"type": "str", "required": False},
            "language": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "uri": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "speechmatics",
            "params": {"key": {"$": "key"}, "language": {"$": "language"}},
        },
        "when": {
            "api_key": [],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "uri": [{"path": ["params", "uri"], "value": {"$": "uri"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "XaiSTT": {
        "stage": "asr",
        "area": "global",
        "names": ["xai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "language": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"vendor": "xai", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
    },
    "AkoolAvatar": {
        "stage": "avatar",
        "area": "global",
        "names": ["akool"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "avatar_id": {"type": "str", "required": False},
            "enable": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {"enable": True, "vendor": "akool", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "avatar_id": [{"path": ["params", "avatar_id"], "value": {"$": "avatar_id"}}],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 16000,
    },
    "AnamAvatar": {
        "stage": "avatar",
        "area": "global",
        "names": ["anam"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "avatar_id": {"type": "str", "required": True},
            "enable": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "anam",
            "params": {"api_key": {"$": "api_key"}, "avatar_id": {"$": "avatar_id"}},
        },
        "when": {
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 0,
    },
    "GenericAvatar": {
        "stage": "avatar",
        "area": "global",
        "names": ["generic"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "api_base_url": {"type": "str", "required": True},
            "avatar_id": {"type": "str", "required": True},
            "agora_uid": {"type": "str", "required": True},
            "agora_appid": {"type": "str", "required": False},
            "agora_token": {"type": "str", "required": False},
            "agora_channel": {"type": "str", "required": False},
            "enable": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "generic",
            "params": {
                "api_key": {"$": "api_key"},
                "api_base_url": {"$": "api_base_url"},
                "avatar_id": {"$": "avatar_id"},
                "agora_uid": {"$": "agora_uid"},
            },
        },
        "when": {
            "agora_appid": [{"path": ["params", "agora_appid"], "value": {"$": "agora_appid"}}],
            "agora_token": [{"path": ["params", "agora_token"], "value": {"$": "agora_token"}}],
            "agora_channel": [
                {"path": ["params", "agora_channel"], "value": {"$": "agora_channel"}}
            ],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 0,
    },
    "HeyGenAvatar": {
        "stage": "avatar",
        "area": "global",
        "names": ["heygen"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "quality": {"type": "str", "required": True},
            "agora_uid": {"type": "str", "required": True},
            "agora_token": {"type": "str", "required": False},
            "avatar_id": {"type": "str", "required": False},
            "enable": {"type": "bool", "required": False},
            "disable_idle_timeout": {"type": "bool", "required": False},
            "activity_idle_timeout": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "heygen",
            "params": {
                "api_key": {"$": "api_key"},
                "quality": {"$": "quality"},
                "agora_uid": {"$": "agora_uid"},
            },
        },
        "when": {
            "agora_token": [{"path": ["params", "agora_token"], "value": {"$": "agora_token"}}],
            "avatar_id": [{"path": ["params", "avatar_id"], "value": {"$": "avatar_id"}}],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "disable_idle_timeout": [
                {"path": ["params", "disable_idle_timeout"], "value": {"$": "disable_idle_timeout"}}
            ],
            "activity_idle_timeout": [
                {
                    "path": ["params", "activity_idle_timeout"],
                    "value": {"$": "activity_idle_timeout"},
                }
            ],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 24000,
    },
    "LiveAvatarAvatar": {
        "stage": "avatar",
        "area": "global",
        "names": ["liveavatar"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "quality": {"type": "str", "required": True},
            "agora_uid": {"type": "str", "required": True},
            "agora_token": {"type": "str", "required": False},
            "avatar_id": {"type": "str", "required": False},
            "enable": {"type": "bool", "required": False},
            "disable_idle_timeout": {"type": "bool", "required": False},
            "activity_idle_timeout": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "liveavatar",
            "params": {
                "api_key": {"$": "api_key"},
                "quality": {"$": "quality"},
                "agora_uid": {"$": "agora_uid"},
            },
        },
        "when": {
            "agora_token": [{"path": ["params", "agora_token"], "value": {"$": "agora_token"}}],
            "avatar_id": [{"path": ["params", "avatar_id"], "value": {"$": "avatar_id"}}],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "disable_idle_timeout": [
                {"path": ["params", "disable_idle_timeout"], "value": {"$": "disable_idle_timeout"}}
            ],
            "activity_idle_timeout": [
                {
                    "path": ["params", "activity_idle_timeout"],
                    "value": {"$": "activity_idle_timeout"},
                }
            ],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 24000,
    },
    "SenseTimeAvatar": {
        "stage": "avatar",
        "area": "cn",
        "names": ["sensetime"],
        "fields": {
            "agora_token": {"type": "str", "required": False},
            "agora_uid": {"type": "str", "required": True},
            "app_id": {"type": "str", "required": False},
            "app_key": {"type": "str", "required": True},
            "scene_list": {"type": "list", "items": "dict", "required": False},
            "enable": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "sensetime",
            "params": {"agora_uid": {"$": "agora_uid"}, "app_key": {"$": "app_key"}},
        },
        "when": {
            "agora_token": [{"path": ["params", "agora_token"], "value": {"$": "agora_token"}}],
            "app_id": [{"path": ["params", "appId"], "value": {"$": "app_id"}}],
            "scene_list": [{"path": ["params", "sceneList"], "value": {"$": "scene_list"}}],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": 0,
    },
    "SpatiusAvatar": {
        "stage": "avatar",
        "area": "cn",
        "names": ["spatius"],
        "fields": {
            "spatius_api_key": {"type": "str", "required": True},
            "spatius_app_id": {"type": "str", "required": True},
            "spatius_avatar_id": {"type": "str", "required": True},
            "agora_uid": {"type": "str", "required": True},
            "agora_token": {"type": "str", "required": False},
            "region": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "session_expire_minutes": {"type": "int", "required": False},
            "enable": {"type": "bool", "required": False},
            "additional_params": {"type": "dict", "required": False},
        },
        "template": {
            "enable": True,
            "vendor": "spatius",
            "params": {
                "spatius_api_key": {"$": "spatius_api_key"},
                "spatius_app_id": {"$": "spatius_app_id"},
                "spatius_avatar_id": {"$": "spatius_avatar_id"},
                "agora_uid": {"$": "agora_uid"},
            },
        },
        "when": {
            "agora_token": [{"path": ["params", "agora_token"], "value": {"$": "agora_token"}}],
            "region": [{"path": ["params", "region"], "value": {"$": "region"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "session_expire_minutes": [
                {
                    "path": ["params", "session_expire_minutes"],
                    "value": {"$": "session_expire_minutes"},
                }
            ],
            "enable": [{"path": ["enable"], "value": {"$": "enable"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "AliyunLLM": {
        "stage": "llm",
        "area": "cn",
        "names": ["aliyun"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False, "default": "aliyun"},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
            "vendor": {"$": "vendor"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {
                    "url": "https://api.openai.com/v1/chat/completions",
                    "params": {"model": {"$": "model"}},
                    "style": "openai",
                    "input_modalities": ["text"],
                },
                "when": {
                    "temperature": [
                        {"path": ["params", "temperature"], "value": {"$": "temperature"}}
                    ],
                    "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
                    "max_tokens": [
                        {"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}
                    ],
                    "system_messages": [
                        {"path": ["system_messages"], "value": {"$": "system_messages"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "greeting_audio_url": [
                        {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "params": [{"path": ["params"], "merge": "params"}],
                    "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "greeting_configs": [
                        {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
                    ],
                    "template_variables": [
                        {"path": ["template_variables"], "value": {"$": "template_variables"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                    "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
                },
            }
        ],
    },
    "BytedanceLLM": {
        "stage": "llm",
        "area": "cn",
        "names": ["bytedance"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False, "default": "bytedance"},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
            "vendor": {"$": "vendor"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {
                    "url": "https://api.openai.com/v1/chat/completions",
                    "params": {"model": {"$": "model"}},
                    "style": "openai",
                    "input_modalities": ["text"],
                },
                "when": {
                    "temperature": [
                        {"path": ["params", "temperature"], "value": {"$": "temperature"}}
                    ],
                    "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
                    "max_tokens": [
                        {"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}
                    ],
                    "system_messages": [
                        {"path": ["system_messages"], "value": {"$": "system_messages"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "greeting_audio_url": [
                        {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "params": [{"path": ["params"], "merge": "params"}],
                    "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "greeting_configs": [
                        {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
                    ],
                    "template_variables": [
                        {"path": ["template_variables"], "value": {"$": "template_variables"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                    "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
                },
            }
        ],
    },
    "DeepSeekLLM": {
        "stage": "llm",
        "area": "cn",
        "names": ["deepseek"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False, "default": "deepseek"},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
            "vendor": {"$": "vendor"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {
                    "url": "https://api.openai.com/v1/chat/completions",
                    "params": {"model": {"$": "model"}},
                    "style": "openai",
                    "input_modalities": ["text"],
                },
                "when": {
                    "temperature": [
                        {"path": ["params", "temperature"], "value": {"$": "temperature"}}
                    ],
                    "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
                    "max_tokens": [
                        {"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}
                    ],
                    "system_messages": [
                        {"path": ["system_messages"], "value": {"$": "system_messages"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "greeting_audio_url": [
                        {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "params": [{"path": ["params"], "merge": "params"}],
                    "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "greeting_configs": [
                        {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
                    ],
                    "template_variables": [
                        {"path": ["template_variables"], "value": {"$": "template_variables"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                    "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
                },
            }
        ],
    },
    "TencentLLM": {
        "stage": "llm",
        "area": "cn",
        "names": ["tencent"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False, "default": "tencent"},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
            "vendor": {"$": "vendor"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {
                    "url": "https://api.openai.com/v1/chat/completions",
                    "params": {"model": {"$": "model"}},
                    "style": "openai",
                    "input_modalities": ["text"],
                },
                "when": {
                    "temperature": [
                        {"path": ["params", "temperature"], "value": {"$": "temperature"}}
                    ],
                    "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
                    "max_tokens": [
                        {"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}
                    ],
                    "system_messages": [
                        {"path": ["system_messages"], "value": {"$": "system_messages"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "greeting_audio_url": [
                        {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "params": [{"path": ["params"], "merge": "params"}],
                    "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "greeting_configs": [
                        {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
                    ],
                    "template_variables": [
                        {"path": ["template_variables"], "value": {"$": "template_variables"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                    "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
                },
            }
        ],
    },
    "AmazonBedrock": {
        "stage": "llm",
        "area": "global",
        "names": ["bedrock"],
        "fields": {
            "access_key": {"type": "str", "required": True},
            "secret_key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {
                "$fmt": "https://bedrock-runtime.{region}.amazonaws.com/model/{model}/converse-stream"
            },
            "access_key": {"$": "access_key"},
            "secret_key": {"$": "secret_key"},
            "region": {"$": "region"},
            "model": {"$": "model"},
            "params": {},
            "style": "bedrock",
            "input_modalities": ["text"],
        },
        "when": {
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "Anthropic": {
        "stage": "llm",
        "area": "global",
        "names": ["anthropic"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "max_tokens": {"type": "int", "required": True, "gt": 0},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": True},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "url"},
            "api_key": {"$": "api_key"},
            "params": {"model": {"$": "model"}, "max_tokens": {"$": "max_tokens"}},
            "headers": {"$": "headers"},
            "style": "anthropic",
            "input_modalities": ["text"],
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "AzureOpenAI": {
        "stage": "llm",
        "area": "global",
        "names": ["azure"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "endpoint": {"type": "str", "required": True},
            "deployment_name": {"type": "str", "required": True},
            "api_version": {"type": "str", "required": False, "default": "2024-08-01-preview"},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {
                "$fmt": "{endpoint}/openai/deployments/{deployment_name}/chat/completions?api-version={api_version}"
            },
            "api_key": {"$": "api_key"},
            "vendor": "azure",
            "style": "openai",
            "input_modalities": ["text"],
            "params": {"model": {"$": "model"}},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "CustomLLM": {
        "stage": "llm",
        "area": "global",
        "names": ["custom"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": True},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
            "vendor": "custom",
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "Dify": {
        "stage": "llm",
        "area": "global",
        "names": ["dify"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "user": {"type": "str", "required": False},
            "conversation_id": {"type": "str", "required": False},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "url"},
            "api_key": {"$": "api_key"},
            "params": {"model": {"$": "model"}},
            "style": "dify",
            "input_modalities": ["text"],
        },
        "when": {
            "user": [{"path": ["params", "user"], "value": {"$": "user"}}],
            "conversation_id": [
                {"path": ["params", "conversation_id"], "value": {"$": "conversation_id"}}
            ],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "Gemini": {
        "stage": "llm",
        "area": "global",
        "names": ["gemini"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "top_k": {"type": "int", "required": False, "gt": 0},
            "max_output_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {
                "$fmt": "https://generativelanguage.googleapis.com/v1beta/models/{model}:streamGenerateContent?alt=sse&key={api_key}"
            },
            "params": {"model": {"$": "model"}},
            "style": "gemini",
            "input_modalities": ["text"],
        },
        "when": {
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "top_k": [{"path": ["params", "top_k"], "value": {"$": "top_k"}}],
            "max_output_tokens": [
                {"path": ["params", "max_output_tokens"], "value": {"$": "max_output_tokens"}}
            ],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "Groq": {
        "stage": "llm",
        "area": "global",
        "names": ["groq"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": True},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "OpenAI": {
        "stage": "llm",
        "area": "global",
        "names": ["openai"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "max_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {"$": "base_url"},
            "params": {"model": {"$": "model"}},
            "style": "openai",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
        },
        "when": {
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "max_tokens": [{"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {
                    "url": "https://api.openai.com/v1/chat/completions",
                    "params": {"model": {"$": "model"}},
                    "style": "openai",
                    "input_modalities": ["text"],
                },
                "when": {
                    "temperature": [
                        {"path": ["params", "temperature"], "value": {"$": "temperature"}}
                    ],
                    "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
                    "max_tokens": [
                        {"path": ["params", "max_tokens"], "value": {"$": "max_tokens"}}
                    ],
                    "system_messages": [
                        {"path": ["system_messages"], "value": {"$": "system_messages"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "greeting_audio_url": [
                        {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "params": [{"path": ["params"], "merge": "params"}],
                    "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "greeting_configs": [
                        {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
                    ],
                    "template_variables": [
                        {"path": ["template_variables"], "value": {"$": "template_variables"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                    "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
                },
            }
        ],
    },
    "VertexAILLM": {
        "stage": "llm",
        "area": "global",
        "names": ["vertexai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "project_id": {"type": "str", "required": True},
            "location": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "url": {"type": "str", "required": False},
            "temperature": {"type": "float", "required": False, "ge": 0.0, "le": 2.0},
            "top_p": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "top_k": {"type": "int", "required": False, "gt": 0},
            "max_output_tokens": {"type": "int", "required": False, "gt": 0},
            "system_messages": {"type": "list", "items": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "greeting_audio_url": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "params": {"type": "dict", "required": False},
            "headers": {"type": "dict", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "greeting_configs": {"type": "dict", "required": False},
            "template_variables": {"type": "dict", "required": False},
            "vendor": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
        },
        "template": {
            "url": {
                "$fmt": "https://{location}-aiplatform.googleapis.com/v1/projects/{project_id}/locations/{location}/publishers/google/models/{model}:streamGenerateContent?alt=sse"
            },
            "params": {"model": {"$": "model"}},
            "style": "gemini",
            "input_modalities": ["text"],
            "api_key": {"$": "api_key"},
        },
        "when": {
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "temperature": [{"path": ["params", "temperature"], "value": {"$": "temperature"}}],
            "top_p": [{"path": ["params", "top_p"], "value": {"$": "top_p"}}],
            "top_k": [{"path": ["params", "top_k"], "value": {"$": "top_k"}}],
            "max_output_tokens": [
                {"path": ["params", "max_output_tokens"], "value": {"$": "max_output_tokens"}}
            ],
            "system_messages": [{"path": ["system_messages"], "value": {"$": "system_messages"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "greeting_audio_url": [
                {"path": ["greeting_audio_url"], "value": {"$": "greeting_audio_url"}}
            ],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "params": [{"path": ["params"], "merge": "params"}],
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "greeting_configs": [
                {"path": ["greeting_configs"], "value": {"$": "greeting_configs"}}
            ],
            "template_variables": [
                {"path": ["template_variables"], "value": {"$": "template_variables"}}
            ],
            "vendor": [{"path": ["vendor"], "value": {"$": "vendor"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
        },
    },
    "QwenOmni": {
        "stage": "mllm",
        "area": "cn",
        "names": ["qwen_omni"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "input_audio_transcription": {"type": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": False},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {"vendor": "qwen_omni", "api_key": {"$": "api_key"}, "url": {"$": "url"}},
        "when": {
            "model": [{"path": ["params"], "value": {"model": {"$": "model"}}}],
            "voice": [{"path": ["params"], "value": {"voice": {"$": "voice"}}}],
            "instructions": [
                {"path": ["params"], "value": {"instructions": {"$": "instructions"}}}
            ],
            "input_audio_transcription": [
                {
                    "path": ["params"],
                    "value": {"input_audio_transcription": {"$": "input_audio_transcription"}},
                }
            ],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "params": [{"path": ["params"], "value": {"$": "params"}}],
            "turn_detection": [{"path": ["turn_detection"], "value": {"$": "turn_detection"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
        "order": ["model", "voice", "instructions", "input_audio_transcription", "params"],
    },
    "AzureOpenAIRealtime": {
        "stage": "mllm",
        "area": "global",
        "names": ["azure"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "url": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "input_audio_transcription": {"type": "dict", "required": False},
            "max_history": {"type": "int", "required": False, "gt": 0},
            "greeting_message": {"type": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": True},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {
            "vendor": "azure",
            "api_key": {"$": "api_key"},
            "url": {"$": "url"},
            "turn_detection": {"$": "turn_detection"},
        },
        "when": {
            "model": [{"path": ["params"], "value": {"model": {"$": "model"}}}],
            "voice": [{"path": ["params"], "value": {"voice": {"$": "voice"}}}],
            "instructions": [
                {"path": ["params"], "value": {"instructions": {"$": "instructions"}}}
            ],
            "input_audio_transcription": [
                {
                    "path": ["params"],
                    "value": {"input_audio_transcription": {"$": "input_audio_transcription"}},
                }
            ],
            "max_history": [{"path": ["max_history"], "value": {"$": "max_history"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "params": [{"path": ["params"], "value": {"$": "params"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
        "order": ["model", "voice", "instructions", "input_audio_transcription", "params"],
    },
    "GeminiLive": {
        "stage": "mllm",
        "area": "global",
        "names": ["gemini"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": False, "default": "models/gemini-3.8-live"},
            "thinking_level": {
                "type": "choice",
                "choices": ["low", "medium", "high"],
                "required": False,
            },
            "language_codes": {"type": "list", "items": "str", "required": False},
            "url": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "affective_dialog": {"type": "bool", "required": False},
            "proactive_audio": {"type": "bool", "required": False},
            "transcribe_agent": {"type": "bool", "required": False},
            "transcribe_user": {"type": "bool", "required": False},
            "http_options": {"type": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": False},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {
            "vendor": "gemini",
            "api_key": {"$": "api_key"},
            "url": "",
            "params": {"model": {"$": "model"}},
        },
        "when": {
            "thinking_level": [],
            "language_codes": [],
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "instructions": [{"path": ["params", "instructions"], "value": {"$": "instructions"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "affective_dialog": [
                {"path": ["params", "affective_dialog"], "value": {"$": "affective_dialog"}}
            ],
            "proactive_audio": [
                {"path": ["params", "proactive_audio"], "value": {"$": "proactive_audio"}}
            ],
            "transcribe_agent": [
                {"path": ["params", "transcribe_agent"], "value": {"$": "transcribe_agent"}}
            ],
            "transcribe_user": [
                {"path": ["params", "transcribe_user"], "value": {"$": "transcribe_user"}}
            ],
            "http_options": [{"path": ["params", "http_options"], "value": {"$": "http_options"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "turn_detection": [{"path": ["turn_detection"], "value": {"$": "turn_detection"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
        "modes": [
            {
                "if": {"field": "model", "in": ["models/gemini-3.8-live"]},
                "template": {
                    "vendor": "gemini",
                    "api_key": {"$": "api_key"},
                    "url": "https://generativelanguage.googleapis.com",
                    "params": {"model": "models/gemini-3.8-live", "voice": "Puck"},
                },
                "when": {
                    "thinking_level": [],
                    "language_codes": [
                        {"path": ["params", "language_codes"], "value": {"$": "language_codes"}}
                    ],
                    "url": [{"path": ["url"], "value": {"$": "url"}}],
                    "instructions": [
                        {"path": ["params", "instructions"], "value": {"$": "instructions"}}
                    ],
                    "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
                    "affective_dialog": [
                        {"path": ["params", "affective_dialog"], "value": {"$": "affective_dialog"}}
                    ],
                    "proactive_audio": [
                        {"path": ["params", "proactive_audio"], "value": {"$": "proactive_audio"}}
                    ],
                    "transcribe_agent": [
                        {"path": ["params", "transcribe_agent"], "value": {"$": "transcribe_agent"}}
                    ],
                    "transcribe_user": [
                        {"path": ["params", "transcribe_user"], "value": {"$": "transcribe_user"}}
                    ],
                    "http_options": [
                        {"path": ["params", "http_options"], "value": {"$": "http_options"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "turn_detection": [
                        {"path": ["turn_detection"], "value": {"$": "turn_detection"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                },
            },
            {
                "if": {"field": "model", "in": ["models/gemini-3.8-live-extended-thinking"]},
                "template": {
                    "vendor": "gemini",
                    "api_key": {"$": "api_key"},
                    "url": "https://generativelanguage.googleapis.com",
                    "params": {
                        "model": "models/gemini-3.8-live-extended-thinking",
                        "voice": "Puck",
                    },
                },
                "when": {
                    "thinking_level": [
                        {"path": ["params", "thinking_level"], "value": {"$": "thinking_level"}}
                    ],
                    "language_codes": [
                        {"path": ["params", "language_codes"], "value": {"$": "language_codes"}}
                    ],
                    "url": [{"path": ["url"], "value": {"$": "url"}}],
                    "instructions": [
                        {"path": ["params", "instructions"], "value": {"$": "instructions"}}
                    ],
                    "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
                    "affective_dialog": [
                        {"path": ["params", "affective_dialog"], "value": {"$": "affective_dialog"}}
                    ],
                    "proactive_audio": [
                        {"path": ["params", "proactive_audio"], "value": {"$": "proactive_audio"}}
                    ],
                    "transcribe_agent": [
                        {"path": ["params", "transcribe_agent"], "value": {"$": "transcribe_agent"}}
                    ],
                    "transcribe_user": [
                        {"path": ["params", "transcribe_user"], "value": {"$": "transcribe_user"}}
                    ],
                    "http_options": [
                        {"path": ["params", "http_options"], "value": {"$": "http_options"}}
                    ],
                    "greeting_message": [
                        {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
                    ],
                    "input_modalities": [
                        {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
                    ],
                    "output_modalities": [
                        {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
                    ],
                    "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "turn_detection": [
                        {"path": ["turn_detection"], "value": {"$": "turn_detection"}}
                    ],
                    "failure_message": [
                        {"path": ["failure_message"], "value": {"$": "failure_message"}}
                    ],
                    "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
                    "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
                },
            },
        ],
    },
    "OpenAIGPTLive": {
        "stage": "mllm",
        "area": "global",
        "names": ["openai_gpt_live"],
        "fields": {
            "api_key": {"type": "str", "required": True, "min_length": 1},
            "url": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "greeting": {"type": "str", "required": False},
            "failure_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
            "params": {"type": "dict", "required": False},
            "input_audio_transcription": {"type": "dict", "required": False},
            "turn_detection": {"type": "any", "required": False},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "prompt": {"type": "str", "required": False},
            "base_url": {"type": "str", "required": False},
            "path": {"type": "str", "required": False},
            "alpha_selector": {"type": "str", "required": False},
            "headers": {"type": "str", "required": False},
            "output_idle_end_ms": {"type": "int", "required": False},
            "input_idle_end_ms": {"type": "int", "required": False},
            "output_silence_peak": {"type": "int", "required": False},
            "output_sample_rate": {"type": "int", "required": False},
            "output_buffer_ms": {"type": "int", "required": False},
            "input_batch_ms": {"type": "int", "required": False},
            "tool_enabled": {"type": "bool", "required": False},
            "delegation": {"type": "choice", "choices": ["client", "responses"], "required": False},
            "responses_model": {"type": "str", "required": False},
            "interrupt_on_user_turn": {"type": "bool", "required": False},
            "session_params": {"type": "dict", "required": False},
        },
        "template": {
            "vendor": "openai_gpt_live",
            "api_key": {"$": "api_key"},
            "url": "wss://api.openai.com/v1/live/sessions",
            "params": {"model": "gpt-live-1"},
        },
        "when": {
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "instructions": [{"path": ["params", "prompt"], "value": {"$": "instructions"}}],
            "greeting": [{"path": ["greeting_message"], "value": {"$": "greeting"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
            "params": [{"path": ["params"], "merge": "params"}],
            "turn_detection": [],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "prompt": [{"path": ["params", "prompt"], "value": {"$": "prompt"}}],
            "base_url": [
                {"path": ["url"], "value": {"$fmt": "{base_url}/v1/live/sessions"}},
                {"path": ["params", "base_url"], "value": {"$": "base_url"}},
            ],
            "path": [
                {"path": ["url"], "value": {"$fmt": "wss://api.openai.com/{path}"}},
                {"path": ["params", "path"], "value": {"$": "path"}},
            ],
            "alpha_selector": [
                {"path": ["params", "alpha_selector"], "value": {"$": "alpha_selector"}}
            ],
            "headers": [{"path": ["params", "headers"], "value": {"$": "headers"}}],
            "output_idle_end_ms": [
                {"path": ["params", "output_idle_end_ms"], "value": {"$": "output_idle_end_ms"}}
            ],
            "input_idle_end_ms": [
                {"path": ["params", "input_idle_end_ms"], "value": {"$": "input_idle_end_ms"}}
            ],
            "output_silence_peak": [
                {"path": ["params", "output_silence_peak"], "value": {"$": "output_silence_peak"}}
            ],
            "output_sample_rate": [
                {"path": ["params", "output_sample_rate"], "value": {"$": "output_sample_rate"}}
            ],
            "output_buffer_ms": [
                {"path": ["params", "output_buffer_ms"], "value": {"$": "output_buffer_ms"}}
            ],
            "input_batch_ms": [
                {"path": ["params", "input_batch_ms"], "value": {"$": "input_batch_ms"}}
            ],
            "tool_enabled": [{"path": ["params", "tool_enabled"], "value": {"$": "tool_enabled"}}],
            "delegation": [{"path": ["params", "delegation"], "value": {"$": "delegation"}}],
            "responses_model": [
                {"path": ["params", "responses_model"], "value": {"$": "responses_model"}}
            ],
            "interrupt_on_user_turn": [
                {
                    "path": ["params", "interrupt_on_user_turn"],
                    "value": {"$": "interrupt_on_user_turn"},
                }
            ],
            "session_params": [
                {"path": ["params", "session_params"], "value": {"$": "session_params"}}
            ],
        },
        "order": ["base_url", "path", "url", "instructions", "prompt"],
        "unresolved": [
            "input_audio_transcription: ValueError: ['GPT Live v3 does not "
            "support input_audio_transcription']"
        ],
    },
    "OpenAIRealtime": {
        "stage": "mllm",
        "area": "global",
        "names": ["openai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "input_audio_transcription": {"type": "dict", "required": False},
            "url": {
                "type": "str",
                "required": False,
                "default": "wss://api.openai.com/v1/realtime",
            },
            "greeting_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": False},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {"vendor": "openai", "api_key": {"$": "api_key"}, "url": {"$": "url"}},
        "when": {
            "model": [{"path": ["params"], "value": {"model": {"$": "model"}}}],
            "voice": [{"path": ["params"], "value": {"voice": {"$": "voice"}}}],
            "instructions": [
                {"path": ["params"], "value": {"instructions": {"$": "instructions"}}}
            ],
            "input_audio_transcription": [
                {
                    "path": ["params"],
                    "value": {"input_audio_transcription": {"$": "input_audio_transcription"}},
                }
            ],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "params": [{"path": ["params"], "value": {"$": "params"}}],
            "turn_detection": [{"path": ["turn_detection"], "value": {"$": "turn_detection"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
        "order": ["model", "voice", "instructions", "input_audio_transcription", "params"],
    },
    "VertexAI": {
        "stage": "mllm",
        "area": "global",
        "names": ["vertexai"],
        "fields": {
            "model": {"type": "str", "required": True},
            "url": {"type": "str", "required": False},
            "project_id": {"type": "str", "required": True},
            "location": {"type": "str", "required": True},
            "adc_credentials_string": {"type": "str", "required": True},
            "instructions": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "affective_dialog": {"type": "bool", "required": False},
            "proactive_audio": {"type": "bool", "required": False},
            "transcribe_agent": {"type": "bool", "required": False},
            "transcribe_user": {"type": "bool", "required": False},
            "http_options": {"type": "dict", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": False},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {
            "vendor": "vertexai",
            "url": "",
            "params": {
                "model": {"$": "model"},
                "project_id": {"$": "project_id"},
                "location": {"$": "location"},
                "adc_credentials_string": {"$": "adc_credentials_string"},
            },
        },
        "when": {
            "url": [{"path": ["url"], "value": {"$": "url"}}],
            "instructions": [{"path": ["params", "instructions"], "value": {"$": "instructions"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "affective_dialog": [
                {"path": ["params", "affective_dialog"], "value": {"$": "affective_dialog"}}
            ],
            "proactive_audio": [
                {"path": ["params", "proactive_audio"], "value": {"$": "proactive_audio"}}
            ],
            "transcribe_agent": [
                {"path": ["params", "transcribe_agent"], "value": {"$": "transcribe_agent"}}
            ],
            "transcribe_user": [
                {"path": ["params", "transcribe_user"], "value": {"$": "transcribe_user"}}
            ],
            "http_options": [{"path": ["params", "http_options"], "value": {"$": "http_options"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "turn_detection": [{"path": ["turn_detection"], "value": {"$": "turn_detection"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
    },
    "XaiGrok": {
        "stage": "mllm",
        "area": "global",
        "names": ["xai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "url": {"type": "str", "required": False, "default": "wss://api.x.ai/v1/realtime"},
            "voice": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "greeting_message": {"type": "str", "required": False},
            "input_modalities": {"type": "list", "items": "str", "required": False},
            "output_modalities": {"type": "list", "items": "str", "required": False},
            "messages": {"type": "list", "items": "dict", "required": False},
            "params": {"type": "dict", "required": False},
            "turn_detection": {"type": "dict", "required": False},
            "failure_message": {"type": "str", "required": False},
            "mcp_servers": {"type": "list", "items": "dict", "required": False},
            "tools": {"type": "list", "items": "dict", "required": False},
        },
        "template": {
            "vendor": "xai",
            "api_key": {"$": "api_key"},
            "url": {"$": "url"},
            "params": {},
        },
        "when": {
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "greeting_message": [
                {"path": ["greeting_message"], "value": {"$": "greeting_message"}}
            ],
            "input_modalities": [
                {"path": ["input_modalities"], "value": {"$": "input_modalities"}}
            ],
            "output_modalities": [
                {"path": ["output_modalities"], "value": {"$": "output_modalities"}}
            ],
            "messages": [{"path": ["messages"], "value": {"$": "messages"}}],
            "params": [{"path": ["params"], "merge": "params"}],
            "turn_detection": [{"path": ["turn_detection"], "value": {"$": "turn_detection"}}],
            "failure_message": [{"path": ["failure_message"], "value": {"$": "failure_message"}}],
            "mcp_servers": [{"path": ["mcp_servers"], "value": {"$mcp": "mcp_servers"}}],
            "tools": [{"path": ["tools"], "value": {"$": "tools"}}],
        },
    },
    "GeminiTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["gemini"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": False, "default": "gemini-3.8-flash-tts"},
            "voice": {"type": "str", "required": False, "default": "Puck"},
            "style": {"type": "str", "required": False},
        },
        "template": {
            "vendor": "gemini",
            "params": {
                "api_key": {"$": "api_key"},
                "model": {"$": "model"},
                "voice": {"$": "voice"},
            },
        },
        "when": {"style": [{"path": ["params", "style"], "value": {"$": "style"}}]},
        "sample_rate": None,
    },
    "BytedanceDuplexTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["bytedance_duplex"],
        "fields": {
            "token": {"type": "str", "required": True},
            "app_id": {"type": "str", "required": True},
            "speaker": {"type": "str", "required": True},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "bytedance_duplex",
            "params": {
                "token": {"$": "token"},
                "app_id": {"$": "app_id"},
                "speaker": {"$": "speaker"},
            },
        },
        "when": {
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "BytedanceTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["bytedance"],
        "fields": {
            "token": {"type": "str", "required": True},
            "app_id": {"type": "str", "required": True},
            "cluster": {"type": "str", "required": True},
            "voice_type": {"type": "str", "required": True},
            "speed_ratio": {"type": "float", "required": False},
            "volume_ratio": {"type": "float", "required": False},
            "pitch_ratio": {"type": "float", "required": False},
            "emotion": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "bytedance",
            "params": {
                "token": {"$": "token"},
                "app_id": {"$": "app_id"},
                "cluster": {"$": "cluster"},
                "voice_type": {"$": "voice_type"},
            },
        },
        "when": {
            "speed_ratio": [{"path": ["params", "speed_ratio"], "value": {"$": "speed_ratio"}}],
            "volume_ratio": [{"path": ["params", "volume_ratio"], "value": {"$": "volume_ratio"}}],
            "pitch_ratio": [{"path": ["params", "pitch_ratio"], "value": {"$": "pitch_ratio"}}],
            "emotion": [{"path": ["params", "emotion"], "value": {"$": "emotion"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "CosyVoiceTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["cosyvoice"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "voice": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "cosyvoice", "params": {}},
        "when": {
            "api_key": [{"path": ["params", "api_key"], "value": {"$": "api_key"}}],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "MicrosoftCNTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["microsoft"],
        "fields": {
            "key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "voice_name": {"type": "str", "required": True},
            "sample_rate": {"type": "int", "required": False},
            "speed": {"type": "float", "required": False},
            "volume": {"type": "float", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "microsoft",
            "params": {
                "key": {"$": "key"},
                "region": {"$": "region"},
                "voice_name": {"$": "voice_name"},
            },
        },
        "when": {
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "volume": [{"path": ["params", "volume"], "value": {"$": "volume"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "MiniMaxCNTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["minimax"],
        "fields": {
            "key": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": False},
            "speed": {"type": "float", "required": False},
            "vol": {"type": "float", "required": False},
            "pitch": {"type": "float", "required": False},
            "emotion": {"type": "str", "required": False},
            "latex_read": {"type": "bool", "required": False},
            "english_normalization": {"type": "bool", "required": False},
            "timber_weights": {"type": "list", "items": "dict", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "pronunciation_dict": {"type": "dict", "required": False},
            "language_boost": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "minimax",
            "params": {
                "key": {"$": "key"},
                "model": {"$": "model"},
                "voice_setting": {"voice_id": {"$": "voice_id"}},
            },
        },
        "when": {
            "speed": [{"path": ["params", "voice_setting", "speed"], "value": {"$": "speed"}}],
            "vol": [{"path": ["params", "voice_setting", "vol"], "value": {"$": "vol"}}],
            "pitch": [{"path": ["params", "voice_setting", "pitch"], "value": {"$": "pitch"}}],
            "emotion": [
                {"path": ["params", "voice_setting", "emotion"], "value": {"$": "emotion"}}
            ],
            "latex_read": [
                {"path": ["params", "voice_setting", "latex_read"], "value": {"$": "latex_read"}}
            ],
            "english_normalization": [
                {
                    "path": ["params", "voice_setting", "english_normalization"],
                    "value": {"$": "english_normalization"},
                }
            ],
            "sample_rate": [
                {
                    "path": ["params", "audio_setting"],
                    "value": {"sample_rate": {"$": "sample_rate"}},
                }
            ],
            "pronunciation_dict": [
                {"path": ["params", "pronunciation_dict"], "value": {"$": "pronunciation_dict"}}
            ],
            "language_boost": [
                {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
            ],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "unresolved": [
            'timber_weights: ValidationError: ["  Value error, MiniMaxTTS '
            "requires exactly one of voice_id or timber_weights "
            "[type=value_error, input_value={'model': 's_model_a', 'k... "
            "'v_timber_weights_a'}]}, input_type=dict]\", '    For further "
            "information visit "
            "https://errors.pydantic.dev/2.14/v/value_error']"
        ],
        "modes": [
            {
                "if": {"absent": ["voice_id"]},
                "template": {
                    "vendor": "minimax",
                    "params": {
                        "key": {"$": "key"},
                        "model": {"$": "model"},
                        "timber_weights": {"$": "timber_weights"},
                    },
                },
                "when": {
                    "speed": [
                        {"path": ["params", "voice_setting"], "value": {"speed": {"$": "speed"}}}
                    ],
                    "vol": [{"path": ["params", "voice_setting"], "value": {"vol": {"$": "vol"}}}],
                    "pitch": [
                        {"path": ["params", "voice_setting"], "value": {"pitch": {"$": "pitch"}}}
                    ],
                    "emotion": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"emotion": {"$": "emotion"}},
                        }
                    ],
                    "latex_read": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"latex_read": {"$": "latex_read"}},
                        }
                    ],
                    "english_normalization": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"english_normalization": {"$": "english_normalization"}},
                        }
                    ],
                    "sample_rate": [
                        {
                            "path": ["params", "audio_setting"],
                            "value": {"sample_rate": {"$": "sample_rate"}},
                        }
                    ],
                    "pronunciation_dict": [
                        {
                            "path": ["params", "pronunciation_dict"],
                            "value": {"$": "pronunciation_dict"},
                        }
                    ],
                    "language_boost": [
                        {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
                    ],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
                "order": [
                    "speed",
                    "vol",
                    "pitch",
                    "emotion",
                    "latex_read",
                    "english_normalization",
                ],
            }
        ],
        "sample_rate": {"$": "sample_rate"},
    },
    "StepFunTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["stepfun"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "model": {"type": "str", "required": False},
            "voice_id": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "stepfun", "params": {}},
        "when": {
            "api_key": [{"path": ["params", "api_key"], "value": {"$": "api_key"}}],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "voice_id": [{"path": ["params", "voice_id"], "value": {"$": "voice_id"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "TencentTTS": {
        "stage": "tts",
        "area": "cn",
        "names": ["tencent"],
        "fields": {
            "app_id": {"type": "str", "required": True},
            "secret_id": {"type": "str", "required": True},
            "secret_key": {"type": "str", "required": True},
            "voice_type": {"type": "int", "required": True},
            "volume": {"type": "int", "required": False},
            "speed": {"type": "int", "required": False},
            "emotion_category": {"type": "str", "required": False},
            "emotion_intensity": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "tencent",
            "params": {
                "app_id": {"$": "app_id"},
                "secret_id": {"$": "secret_id"},
                "secret_key": {"$": "secret_key"},
                "voice_type": {"$": "voice_type"},
            },
        },
        "when": {
            "volume": [{"path": ["params", "volume"], "value": {"$": "volume"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "emotion_category": [
                {"path": ["params", "emotion_category"], "value": {"$": "emotion_category"}}
            ],
            "emotion_intensity": [
                {"path": ["params", "emotion_intensity"], "value": {"$": "emotion_intensity"}}
            ],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "AmazonTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["amazon"],
        "fields": {
            "access_key": {"type": "str", "required": True},
            "secret_key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": True},
            "engine": {"type": "str", "required": True},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "amazon",
            "params": {
                "aws_access_key_id": {"$": "access_key"},
                "aws_secret_access_key": {"$": "secret_key"},
                "region_name": {"$": "region"},
                "voice": {"$": "voice_id"},
                "engine": {"$": "engine"},
            },
        },
        "when": {"skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}]},
        "sample_rate": None,
    },
    "CartesiaTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["cartesia"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": True},
            "model_id": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "language": {"type": "str", "required": False},
            "sample_rate": {
                "type": "choice",
                "choices": [8000, 16000, 22050, 24000, 44100, 48000],
                "required": False,
            },
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "cartesia",
            "params": {
                "api_key": {"$": "api_key"},
                "model_id": {"$": "model_id"},
                "voice": {"mode": "id", "id": {"$": "voice_id"}},
            },
        },
        "when": {
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "sample_rate": [
                {
                    "path": ["params", "output_format"],
                    "value": {"container": "raw", "sample_rate": {"$": "sample_rate"}},
                }
            ],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "DeepgramTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["deepgram"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "deepgram",
            "params": {"api_key": {"$": "api_key"}, "model": {"$": "model"}},
        },
        "when": {
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "ElevenLabsTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["elevenlabs"],
        "fields": {
            "key": {"type": "str", "required": True},
            "model_id": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": True},
            "sample_rate": {
                "type": "choice",
                "choices": [16000, 22050, 24000, 44100],
                "required": False,
            },
            "skip_patterns": {"type": "list", "items": "int", "required": False},
            "optimize_streaming_latency": {"type": "int", "required": False, "ge": 0, "le": 4},
            "stability": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "similarity_boost": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "style": {"type": "float", "required": False, "ge": 0.0, "le": 1.0},
            "use_speaker_boost": {"type": "bool", "required": False},
        },
        "template": {
            "vendor": "elevenlabs",
            "params": {
                "key": {"$": "key"},
                "base_url": {"$": "base_url"},
                "model_id": {"$": "model_id"},
                "voice_id": {"$": "voice_id"},
            },
        },
        "when": {
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
            "optimize_streaming_latency": [
                {
                    "path": ["params", "optimize_streaming_latency"],
                    "value": {"$": "optimize_streaming_latency"},
                }
            ],
            "stability": [{"path": ["params", "stability"], "value": {"$": "stability"}}],
            "similarity_boost": [
                {"path": ["params", "similarity_boost"], "value": {"$": "similarity_boost"}}
            ],
            "style": [{"path": ["params", "style"], "value": {"$": "style"}}],
            "use_speaker_boost": [
                {"path": ["params", "use_speaker_boost"], "value": {"$": "use_speaker_boost"}}
            ],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "FishAudioTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["fishaudio"],
        "fields": {
            "key": {"type": "str", "required": True},
            "reference_id": {"type": "str", "required": True},
            "backend": {"type": "str", "required": True},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "fishaudio",
            "params": {
                "api_key": {"$": "key"},
                "reference_id": {"$": "reference_id"},
                "backend": {"$": "backend"},
            },
        },
        "when": {"skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}]},
        "sample_rate": None,
    },
    "GenericTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["generic_http", "generic"],
        "fields": {
            "url": {"type": "str", "required": True},
            "headers": {"type": "dict", "required": False},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "api_key": {"type": "str", "required": False},
            "speed": {"type": "float", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "response_format": {"type": "str", "required": False},
            "instruction": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "generic_http", "url": {"$": "url"}, "params": {}},
        "when": {
            "headers": [{"path": ["headers"], "value": {"$": "headers"}}],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "api_key": [{"path": ["params", "api_key"], "value": {"$": "api_key"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "response_format": [
                {"path": ["params", "response_format"], "value": {"$": "response_format"}}
            ],
            "instruction": [{"path": ["params", "instruction"], "value": {"$": "instruction"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "GoogleTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["google"],
        "fields": {
            "key": {"type": "str", "required": True},
            "voice_name": {"type": "str", "required": True},
            "language_code": {"type": "str", "required": False},
            "sample_rate_hertz": {
                "type": "choice",
                "choices": [8000, 16000, 22050, 24000, 44100, 48000],
                "required": False,
            },
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "google",
            "params": {
                "credentials": {"$": "key"},
                "VoiceSelectionParams": {"name": {"$": "voice_name"}},
            },
        },
        "when": {
            "language_code": [
                {
                    "path": ["params", "VoiceSelectionParams", "language_code"],
                    "value": {"$": "language_code"},
                }
            ],
            "sample_rate_hertz": [
                {
                    "path": ["params", "AudioConfig"],
                    "value": {"sample_rate_hertz": {"$": "sample_rate_hertz"}},
                }
            ],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate_hertz"},
    },
    "GradiumTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["gradium"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "url": {"type": "str", "required": False},
            "model_name": {"type": "str", "required": False},
            "voice_id": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "gradium", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "url": [{"path": ["params", "url"], "value": {"$": "url"}}],
            "model_name": [{"path": ["params", "model_name"], "value": {"$": "model_name"}}],
            "voice_id": [{"path": ["params", "voice_id"], "value": {"$": "voice_id"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "HumeAITTS": {
        "stage": "tts",
        "area": "global",
        "names": ["humeai"],
        "fields": {
            "key": {"type": "str", "required": True},
            "config_id": {"type": "str", "required": False},
            "voice_id": {"type": "str", "required": True},
            "base_url": {"type": "str", "required": False},
            "provider": {"type": "str", "required": True},
            "speed": {"type": "float", "required": False},
            "trailing_silence": {"type": "float", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "humeai",
            "params": {
                "key": {"$": "key"},
                "voice_id": {"$": "voice_id"},
                "provider": {"$": "provider"},
            },
        },
        "when": {
            "config_id": [{"path": ["params", "config_id"], "value": {"$": "config_id"}}],
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "trailing_silence": [
                {"path": ["params", "trailing_silence"], "value": {"$": "trailing_silence"}}
            ],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "MicrosoftTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["microsoft"],
        "fields": {
            "key": {"type": "str", "required": True},
            "region": {"type": "str", "required": True},
            "voice_name": {"type": "str", "required": True},
            "sample_rate": {
                "type": "choice",
                "choices": [8000, 16000, 24000, 48000],
                "required": False,
            },
            "speed": {"type": "float", "required": False},
            "volume": {"type": "float", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "microsoft",
            "params": {
                "key": {"$": "key"},
                "region": {"$": "region"},
                "voice_name": {"$": "voice_name"},
            },
        },
        "when": {
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "volume": [{"path": ["params", "volume"], "value": {"$": "volume"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "MiniMaxTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["minimax"],
        "fields": {
            "key": {"type": "str", "required": False},
            "group_id": {"type": "str", "required": False},
            "model": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": False},
            "speed": {"type": "float", "required": False},
            "vol": {"type": "float", "required": False},
            "pitch": {"type": "float", "required": False},
            "emotion": {"type": "str", "required": False},
            "latex_read": {"type": "bool", "required": False},
            "english_normalization": {"type": "bool", "required": False},
            "timber_weights": {"type": "list", "items": "dict", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "pronunciation_dict": {"type": "dict", "required": False},
            "language_boost": {"type": "str", "required": False},
            "url": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "minimax",
            "params": {
                "key": {"$": "key"},
                "group_id": {"$": "group_id"},
                "model": {"$": "model"},
                "voice_setting": {"voice_id": {"$": "voice_id"}},
            },
        },
        "when": {
            "speed": [{"path": ["params", "voice_setting", "speed"], "value": {"$": "speed"}}],
            "vol": [{"path": ["params", "voice_setting", "vol"], "value": {"$": "vol"}}],
            "pitch": [{"path": ["params", "voice_setting", "pitch"], "value": {"$": "pitch"}}],
            "emotion": [
                {"path": ["params", "voice_setting", "emotion"], "value": {"$": "emotion"}}
            ],
            "latex_read": [
                {"path": ["params", "voice_setting", "latex_read"], "value": {"$": "latex_read"}}
            ],
            "english_normalization": [
                {
                    "path": ["params", "voice_setting", "english_normalization"],
                    "value": {"$": "english_normalization"},
                }
            ],
            "sample_rate": [
                {
                    "path": ["params", "audio_setting"],
                    "value": {"sample_rate": {"$": "sample_rate"}},
                }
            ],
            "pronunciation_dict": [
                {"path": ["params", "pronunciation_dict"], "value": {"$": "pronunciation_dict"}}
            ],
            "language_boost": [
                {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
            ],
            "url": [{"path": ["params", "url"], "value": {"$": "url"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "unresolved": [
            'timber_weights: ValidationError: ["  Value error, MiniMaxTTS '
            "requires exactly one of voice_id or timber_weights "
            "[type=value_error, input_value={'model': 's_model_a', 'k... "
            "'v_timber_weights_a'}]}, input_type=dict]\", '    For further "
            "information visit "
            "https://errors.pydantic.dev/2.14/v/value_error']"
        ],
        "modes": [
            {
                "if": {"absent": ["key", "voice_id"]},
                "template": {
                    "vendor": "minimax",
                    "params": {"timber_weights": {"$": "timber_weights"}},
                    "_minimax_preset_model": {"$": "model"},
                },
                "when": {
                    "group_id": [],
                    "speed": [
                        {"path": ["params", "voice_setting"], "value": {"speed": {"$": "speed"}}}
                    ],
                    "vol": [{"path": ["params", "voice_setting"], "value": {"vol": {"$": "vol"}}}],
                    "pitch": [
                        {"path": ["params", "voice_setting"], "value": {"pitch": {"$": "pitch"}}}
                    ],
                    "emotion": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"emotion": {"$": "emotion"}},
                        }
                    ],
                    "latex_read": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"latex_read": {"$": "latex_read"}},
                        }
                    ],
                    "english_normalization": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"english_normalization": {"$": "english_normalization"}},
                        }
                    ],
                    "sample_rate": [
                        {
                            "path": ["params", "audio_setting"],
                            "value": {"sample_rate": {"$": "sample_rate"}},
                        }
                    ],
                    "pronunciation_dict": [
                        {
                            "path": ["params", "pronunciation_dict"],
                            "value": {"$": "pronunciation_dict"},
                        }
                    ],
                    "language_boost": [
                        {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
                    ],
                    "url": [],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
                "order": [
                    "speed",
                    "vol",
                    "pitch",
                    "emotion",
                    "latex_read",
                    "english_normalization",
                ],
            },
            {
                "if": {"absent": ["key"]},
                "template": {
                    "vendor": "minimax",
                    "params": {"voice_setting": {"voice_id": {"$": "voice_id"}}},
                    "_minimax_preset_model": {"$": "model"},
                },
                "when": {
                    "group_id": [],
                    "speed": [
                        {"path": ["params", "voice_setting", "speed"], "value": {"$": "speed"}}
                    ],
                    "vol": [{"path": ["params", "voice_setting", "vol"], "value": {"$": "vol"}}],
                    "pitch": [
                        {"path": ["params", "voice_setting", "pitch"], "value": {"$": "pitch"}}
                    ],
                    "emotion": [
                        {"path": ["params", "voice_setting", "emotion"], "value": {"$": "emotion"}}
                    ],
                    "latex_read": [
                        {
                            "path": ["params", "voice_setting", "latex_read"],
                            "value": {"$": "latex_read"},
                        }
                    ],
                    "english_normalization": [
                        {
                            "path": ["params", "voice_setting", "english_normalization"],
                            "value": {"$": "english_normalization"},
                        }
                    ],
                    "sample_rate": [
                        {
                            "path": ["params", "audio_setting"],
                            "value": {"sample_rate": {"$": "sample_rate"}},
                        }
                    ],
                    "pronunciation_dict": [
                        {
                            "path": ["params", "pronunciation_dict"],
                            "value": {"$": "pronunciation_dict"},
                        }
                    ],
                    "language_boost": [
                        {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
                    ],
                    "url": [],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
            },
            {
                "if": {"absent": ["voice_id"]},
                "template": {
                    "vendor": "minimax",
                    "params": {
                        "key": {"$": "key"},
                        "group_id": {"$": "group_id"},
                        "model": {"$": "model"},
                        "timber_weights": {"$": "timber_weights"},
                    },
                },
                "when": {
                    "speed": [
                        {"path": ["params", "voice_setting"], "value": {"speed": {"$": "speed"}}}
                    ],
                    "vol": [{"path": ["params", "voice_setting"], "value": {"vol": {"$": "vol"}}}],
                    "pitch": [
                        {"path": ["params", "voice_setting"], "value": {"pitch": {"$": "pitch"}}}
                    ],
                    "emotion": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"emotion": {"$": "emotion"}},
                        }
                    ],
                    "latex_read": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"latex_read": {"$": "latex_read"}},
                        }
                    ],
                    "english_normalization": [
                        {
                            "path": ["params", "voice_setting"],
                            "value": {"english_normalization": {"$": "english_normalization"}},
                        }
                    ],
                    "sample_rate": [
                        {
                            "path": ["params", "audio_setting"],
                            "value": {"sample_rate": {"$": "sample_rate"}},
                        }
                    ],
                    "pronunciation_dict": [
                        {
                            "path": ["params", "pronunciation_dict"],
                            "value": {"$": "pronunciation_dict"},
                        }
                    ],
                    "language_boost": [
                        {"path": ["params", "language_boost"], "value": {"$": "language_boost"}}
                    ],
                    "url": [{"path": ["params", "url"], "value": {"$": "url"}}],
                    "additional_params": [{"path": ["params"], "merge": "additional_params"}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
                "order": [
                    "speed",
                    "vol",
                    "pitch",
                    "emotion",
                    "latex_read",
                    "english_normalization",
                ],
            },
        ],
        "sample_rate": {"$": "sample_rate"},
    },
    "MistralTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["mistral"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "voice": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "mistral", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "voice": [{"path": ["params", "voice"], "value": {"$": "voice"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "MurfTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["murf"],
        "fields": {
            "key": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": False},
            "base_url": {"type": "str", "required": False},
            "locale": {"type": "str", "required": False},
            "rate": {"type": "float", "required": False},
            "pitch": {"type": "float", "required": False},
            "model": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "murf", "params": {"api_key": {"$": "key"}}},
        "when": {
            "voice_id": [{"path": ["params", "voiceId"], "value": {"$": "voice_id"}}],
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "locale": [{"path": ["params", "locale"], "value": {"$": "locale"}}],
            "rate": [{"path": ["params", "rate"], "value": {"$": "rate"}}],
            "pitch": [{"path": ["params", "pitch"], "value": {"$": "pitch"}}],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "OpenAITTS": {
        "stage": "tts",
        "area": "global",
        "names": ["openai"],
        "fields": {
            "api_key": {"type": "str", "required": False},
            "voice": {"type": "str", "required": True},
            "model": {"type": "str", "required": False},
            "base_url": {"type": "str", "required": False},
            "instructions": {"type": "str", "required": False},
            "speed": {"type": "float", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "openai",
            "params": {
                "voice": {"$": "voice"},
                "api_key": {"$": "api_key"},
                "base_url": {"$": "base_url"},
                "model": {"$": "model"},
            },
        },
        "when": {
            "instructions": [{"path": ["params", "instructions"], "value": {"$": "instructions"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "modes": [
            {
                "if": {"absent": ["api_key"]},
                "template": {"vendor": "openai", "params": {"voice": {"$": "voice"}}},
                "when": {
                    "instructions": [
                        {"path": ["params", "instructions"], "value": {"$": "instructions"}}
                    ],
                    "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
            }
        ],
        "sample_rate": 24000,
    },
    "RimeTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["rime"],
        "fields": {
            "key": {"type": "str", "required": False},
            "speaker": {"type": "str", "required": False},
            "model_id": {"type": "str", "required": False},
            "base_url": {"type": "str", "required": False},
            "credential_mode": {
                "type": "choice",
                "choices": ["managed", "byok"],
                "required": False,
            },
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "rime",
            "params": {
                "modelId": {"$": "model_id"},
                "api_key": {"$": "key"},
                "speaker": {"$": "speaker"},
            },
        },
        "when": {
            "base_url": [{"path": ["params", "base_url"], "value": {"$": "base_url"}}],
            "credential_mode": [{"path": ["credential_mode"], "value": {"$": "credential_mode"}}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "modes": [
            {
                "if": {"field": "credential_mode", "in": ["managed"]},
                "template": {
                    "vendor": "rime",
                    "params": {"modelId": {"$": "model_id"}, "base_url": {"$": "base_url"}},
                    "credential_mode": "managed",
                },
                "when": {
                    "key": [{"path": ["params", "api_key"], "value": {"$": "key"}}],
                    "speaker": [{"path": ["params", "speaker"], "value": {"$": "speaker"}}],
                    "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
                },
            }
        ],
        "sample_rate": None,
    },
    "SarvamTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["sarvam"],
        "fields": {
            "key": {"type": "str", "required": True},
            "speaker": {"type": "str", "required": True},
            "target_language_code": {"type": "str", "required": True},
            "pitch": {"type": "float", "required": False},
            "pace": {"type": "float", "required": False},
            "loudness": {"type": "float", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "sarvam",
            "params": {
                "api_subscription_key": {"$": "key"},
                "speaker": {"$": "speaker"},
                "target_language_code": {"$": "target_language_code"},
            },
        },
        "when": {
            "pitch": [{"path": ["params", "pitch"], "value": {"$": "pitch"}}],
            "pace": [{"path": ["params", "pace"], "value": {"$": "pace"}}],
            "loudness": [{"path": ["params", "loudness"], "value": {"$": "loudness"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "SmallestAITTS": {
        "stage": "tts",
        "area": "global",
        "names": ["smallestai"],
        "fields": {
            "api_key": {"type": "str", "required": True, "min_length": 1},
            "url": {"type": "str", "required": False},
            "model": {"type": "str", "required": False},
            "voice_id": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False, "gt": 0},
            "speed": {"type": "float", "required": False, "gt": 0},
            "language": {"type": "str", "required": False},
            "number_pronunciation_language": {"type": "str", "required": False},
            "math_notation": {"type": "bool", "required": False},
            "pronunciation_dicts": {"type": "list", "items": "str", "required": False},
            "session_id": {"type": "str", "required": False},
            "request_id": {"type": "str", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {"vendor": "smallestai", "params": {"api_key": {"$": "api_key"}}},
        "when": {
            "url": [{"path": ["params", "url"], "value": {"$": "url"}}],
            "model": [{"path": ["params", "model"], "value": {"$": "model"}}],
            "voice_id": [{"path": ["params", "voice_id"], "value": {"$": "voice_id"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "speed": [{"path": ["params", "speed"], "value": {"$": "speed"}}],
            "language": [{"path": ["params", "language"], "value": {"$": "language"}}],
            "number_pronunciation_language": [
                {
                    "path": ["params", "number_pronunciation_language"],
                    "value": {"$": "number_pronunciation_language"},
                }
            ],
            "math_notation": [
                {"path": ["params", "math_notation"], "value": {"$": "math_notation"}}
            ],
            "pronunciation_dicts": [
                {"path": ["params", "pronunciation_dicts"], "value": {"$": "pronunciation_dicts"}}
            ],
            "session_id": [{"path": ["params", "session_id"], "value": {"$": "session_id"}}],
            "request_id": [{"path": ["params", "request_id"], "value": {"$": "request_id"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
    "TypecastTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["typecast"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": True},
            "model": {"type": "str", "required": True},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "typecast",
            "params": {
                "api_key": {"$": "api_key"},
                "voice_id": {"$": "voice_id"},
                "model": {"$": "model"},
            },
        },
        "when": {
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": None,
    },
    "XaiTTS": {
        "stage": "tts",
        "area": "global",
        "names": ["xai"],
        "fields": {
            "api_key": {"type": "str", "required": True},
            "language": {"type": "str", "required": True},
            "voice_id": {"type": "str", "required": False},
            "sample_rate": {"type": "int", "required": False},
            "additional_params": {"type": "dict", "required": False},
            "skip_patterns": {"type": "list", "items": "int", "required": False},
        },
        "template": {
            "vendor": "xai",
            "params": {"api_key": {"$": "api_key"}, "language": {"$": "language"}},
        },
        "when": {
            "voice_id": [{"path": ["params", "voice_id"], "value": {"$": "voice_id"}}],
            "sample_rate": [{"path": ["params", "sample_rate"], "value": {"$": "sample_rate"}}],
            "additional_params": [{"path": ["params"], "merge": "additional_params"}],
            "skip_patterns": [{"path": ["skip_patterns"], "value": {"$": "skip_patterns"}}],
        },
        "sample_rate": {"$": "sample_rate"},
    },
}
