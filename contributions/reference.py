"""
Reference data every installation needs: Shanghai's agencies, tax authorities and offices, and the levy
taxonomy. Loaded by migration 0002 and again by `seed_demo` (tests that flush the database lose it).
"""

DISTRICTS = [
    ("310101", "黄浦"),
    ("310104", "徐汇"),
    ("310105", "长宁"),
    ("310106", "静安"),
    ("310107", "普陀"),
    ("310109", "虹口"),
    ("310110", "杨浦"),
    ("310112", "闵行"),
    ("310113", "宝山"),
    ("310114", "嘉定"),
    ("310115", "浦东新"),
    ("310116", "金山"),
    ("310117", "松江"),
    ("310118", "青浦"),
    ("310120", "奉贤"),
    ("310151", "崇明"),
]

# 征收项目 (code, name, 险种) → 征收品目 (code, name) → 征收子目 (code, name)
TAXONOMY = [
    (
        "10210",
        "基本养老保险费",
        "pension",
        [
            ("1021001", "灵活就业人员基本养老保险", []),
        ],
    ),
    (
        "10211",
        "基本医疗保险费",
        "medical",
        [
            ("1021101", "灵活就业人员基本医疗保险", []),
        ],
    ),
    (
        "10212",
        "城乡居民基本养老保险费",
        "pension",
        [
            ("1021201", "城乡居民基本养老保险费", [("102120101", "城乡居民基本养老保险基金收入")]),
        ],
    ),
    (
        "10213",
        "城乡居民基本医疗保险费",
        "medical",
        [
            (
                "1021301",
                "城乡居民基本医疗保险费",
                [
                    ("102130101", "城乡医保(0-18)"),
                    ("102130102", "城乡医保(19-59)"),
                    ("102130103", "城乡医保(60以上)"),
                ],
            ),
        ],
    ),
]


def load(apps, schema_editor=None):
    """Upsert the reference rows; `apps` is a migration state or django.apps.apps."""
    Agency = apps.get_model("contributions", "Agency")
    TaxAuthority = apps.get_model("contributions", "TaxAuthority")
    TaxOffice = apps.get_model("contributions", "TaxOffice")
    LevyItem = apps.get_model("contributions", "LevyItem")
    LevyCategory = apps.get_model("contributions", "LevyCategory")
    LevySubcategory = apps.get_model("contributions", "LevySubcategory")

    for code, district in DISTRICTS:
        area = district + "区"
        branch = district.removesuffix("新")
        Agency.objects.update_or_create(
            code=f"SB{code}", defaults={"name": f"上海市社会保险事业管理中心{branch}分中心"}
        )
        Agency.objects.update_or_create(
            code=f"YB{code}", defaults={"name": f"上海市医疗保险事业管理中心{branch}分中心"}
        )
        authority, _ = TaxAuthority.objects.update_or_create(
            code=f"1{code}0000", defaults={"name": f"国家税务总局上海市{area}税务局"}
        )
        TaxOffice.objects.update_or_create(
            code=f"1{code}0100",
            defaults={"name": f"国家税务总局上海市{area}税务局第一税务所", "authority": authority},
        )
    for item_code, item_name, insurance, categories in TAXONOMY:
        item, _ = LevyItem.objects.update_or_create(
            code=item_code, defaults={"name": item_name, "insurance": insurance}
        )
        for category_code, category_name, subcategories in categories:
            category, _ = LevyCategory.objects.update_or_create(
                code=category_code, defaults={"name": category_name, "item": item}
            )
            for sub_code, sub_name in subcategories:
                LevySubcategory.objects.update_or_create(
                    code=sub_code, defaults={"name": sub_name, "category": category}
                )
