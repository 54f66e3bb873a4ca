#!/usr/bin/env python3
"""Ontology batch 2 for #16 item 5: JSIC 3-digit hints for the groups of
divisions E (09-32) and G (37-41), and concepts for the groups regional firms
commonly belong to that had none (leather goods, jewellery, lacquerware,
chemicals, lubricants, stone, concrete, abrasives, cutlery,
lighting, publishing, audio production, prepress, paper products, feed).

`matcher concepts --coverage` lists the groups still without a concept.
Edits fixtures/concepts.jsonl in place (order kept, new concepts appended).
"""
import json, os, sys

path = sys.argv[1] if len(sys.argv) > 1 else "fixtures/concepts.jsonl"
rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
by_id = {r["id"]: r for r in rows}
SKIP = set(filter(None, os.environ.get("SKIP", "").split(",")))  # for bisecting

def hint(cid, *codes, surface=()):
    if cid in SKIP:
        return
    r = by_id[cid]
    for c in codes:
        if c not in r["jsic"]:
            r["jsic"].append(c)
    for s in surface:
        if s not in r["surface"]:
            r["surface"].append(s)

def add(cid, name, kind, surface, examples, broader=(), equipment=(), jsic=()):
    assert cid not in by_id, cid
    if cid in SKIP:
        return
    r = {"id": cid, "name": name, "kind": kind, "surface": list(surface), "broader": list(broader),
         "equipment": list(equipment), "jsic": list(jsic), "examples": list(examples)}
    rows.append(r); by_id[cid] = r

# --- E 09/10 food and beverages ---
hint("meat_processing", "091"); hint("dairy", "091")
hint("retort", "093"); hint("pickles", "093", "099"); hint("seasoning", "094")
hint("dried_food", "096", "099"); hint("confectionery", "097"); hint("bakery", "097")
hint("noodles", "099"); hint("frozen_food", "099"); hint("delicatessen", "099")
hint("health_food", "099"); hint("food_oem", "099"); hint("food_processing", "099")
hint("beverage", "101"); hint("sake_brewing", "102")
add("feed_fertilizer", "飼料・肥料", "product",
    ["飼料", "ペットフード", "配合飼料", "肥料", "有機肥料", "堆肥", "たい肥", "土壌改良材"],
    ["食品残さを堆肥や飼料に加工してくれる会社を探しています"], jsic=["106", "161"])
add("oils_fats", "食用油脂", "product",
    ["食用油", "油脂", "ごま油", "菜種油", "搾油", "オリーブオイル", "米油"],
    ["地元産の菜種で食用油を搾油してくれる会社を探しています"], broader=["food_processing"], jsic=["098"])
# --- E 11 textiles ---
hint("textiles", "111", "119"); hint("weaving", "112"); hint("knitting", "113")
hint("dyeing", "114"); hint("textile_printing", "114"); hint("sewing", "116", "117", "118")
hint("embroidery", "119"); hint("nonwoven", "119")
add("rope_net", "ロープ・網・レース", "product",
    ["ロープ", "綱", "漁網", "網製品", "レース生地", "組紐", "紐"],
    ["漁網やロープを特注サイズで製作してくれる会社を探しています"], broader=["textiles"], jsic=["115"])
# --- E 12/13 wood and furniture ---
hint("woodworking", "121", "122", "123", "129"); hint("wood_material", "121")
hint("furniture", "131", "139")
add("joinery", "建具・木製建具", "product",
    ["建具", "木製建具", "障子", "襖", "ふすま", "木製ドア", "引き戸", "建具製作"],
    ["古民家改修用の木製建具を製作してくれる会社を探しています"], broader=["woodworking"], jsic=["133"])
add("religious_goods", "仏壇・仏具", "product",
    ["仏壇", "仏具", "神棚", "神具", "位牌", "仏壇修理", "お洗濯"],
    ["仏具の修復と金箔押しをお願いしたい"], jsic=["132"])
# --- E 14/15 paper and printing ---
add("paper_products", "紙加工品", "product",
    ["紙加工", "紙製品", "加工紙", "和紙", "紙管", "ラミネート紙", "紙袋", "封筒", "ノート製造", "紙の加工"],
    ["オリジナルの紙袋と封筒を小ロットで作ってくれる会社を探しています"], jsic=["141", "142", "143", "144", "149"])
hint("packaging", "145"); hint("corrugated", "145"); hint("paper_box", "145"); hint("flexible_packaging", "144", "182")
hint("printing", "151", "159"); hint("offset_printing", "151"); hint("digital_printing", "151")
hint("screen_printing", "151"); hint("label_printing", "151"); hint("postpress", "153")
add("prepress", "製版・プリプレス", "service",
    ["製版", "刷版", "プリプレス", "CTP", "版下", "版下作成", "樹脂版", "フィルム出力", "色校正", "校正刷り"],
    ["印刷前の製版と色校正をお願いしたい"], broader=["printing"], jsic=["152"])
# --- E 16/17 chemicals and petroleum ---
add("chemical_products", "化学製品", "product",
    ["化成品", "工業薬品", "塗料製造", "接着剤製造", "洗剤", "界面活性剤", "石けん", "樹脂原料",
     "配合", "調合", "コーティング剤", "薬剤"],
    ["オリジナル配合の洗剤を受託で製造してくれる会社を探しています"], jsic=["162", "163", "164", "169"])
hint("pharma_cosmetics", "165", "166")
add("lubricants", "潤滑油・切削油", "product",
    ["潤滑油", "グリース", "切削油", "作動油", "防錆油", "水溶性切削液", "クーラント", "離型剤"],
    ["切削油の選定と供給をお願いしたい"], jsic=["172", "179"])
# --- E 18/19 plastics and rubber ---
hint("extrusion_molding", "181"); hint("plastic_molding", "183", "189"); # injection_molding keeps JSIC 18 alone (its group follows from plastic_molding)
hint("blow_molding", "189"); hint("vacuum_forming", "182", "189"); hint("frp_molding", "184"); hint("foam_processing", "184")
hint("resin_material", "185"); hint("rubber_molding", "193", "199"); hint("rubber_products", "193")
# --- E 20 leather ---
add("leather_goods", "革製品", "product",
    ["革製品", "革小物", "レザ", "レザ製品", "レザクラフト", "本革", "牛革", "豚革", "鞄", "かばん", "カバン", "バッグ製作",
     "財布", "ベルト製作", "革手袋", "なめし", "タンナ", "コバ磨き", "革漉き", "ランドセル"],
    ["本革の財布をノベルティ用に小ロットで作ってくれる会社を探しています"],
    equipment=["革漉き機", "革すき機", "コバ磨き機"], jsic=["201", "202", "203", "205", "206", "207", "208", "209"])
add("footwear", "靴・履物", "product",
    ["靴", "革靴", "紳士靴", "婦人靴", "シューズ", "ビジネスシューズ", "履物", "サンダル", "スリッパ", "靴製造", "グッドイヤーウェルト",
     "マッケイ製法", "靴底", "インソール"],
    ["オリジナルの革靴を小ロットで製造してくれる工場を探しています"], broader=["leather_goods"], jsic=["192", "204"])
# --- E 21 ceramics, stone, glass ---
hint("glass_processing", "211"); hint("glass", "211"); hint("ceramics_products", "213", "214", "215", "219")
hint("ceramics_machining", "216", surface=["黒鉛加工", "グラファイト加工", "カーボン加工"])
add("concrete_products", "コンクリート製品", "product",
    ["コンクリート製品", "コンクリート二次製品", "プレキャスト", "PCa", "セメント製品", "U字溝", "側溝"],
    ["プレキャストのコンクリート製品を特注で作ってくれる会社を探しています"], jsic=["212"])
add("abrasives", "砥石・研磨材", "product",
    ["砥石", "研削砥石", "研磨材", "研磨布", "研磨紙", "ダイヤモンド工具", "ダイヤモンドホイール", "CBNホイール", "ドレッシング"],
    ["研削用の砥石を特注形状で作ってくれる会社を探しています"], jsic=["217"])
add("stone_processing", "石材加工", "process",
    ["石材加工", "石材", "墓石", "御影石", "大理石", "石彫", "石工", "石の加工", "庭石"],
    ["御影石の銘板を加工してくれる会社を探しています"], jsic=["218"])
# --- E 22-24 metals and metal products ---
hint("steel", "221", "222", "223"); hint("hot_dip_galvanizing", "224"); hint("casting", "225", "235")
hint("nonferrous", "231", "232", "233"); hint("wire_harness", "234"); hint("die_casting", "235")
hint("can_making", "241", "244"); hint("sheet_metal", "244"); hint("pipe_processing", "243")
hint("threading", "248"); hint("thread_rolling", "248"); hint("spring", "247", "249"); hint("wire_forming", "247")
add("cutlery_hardware", "刃物・金物", "product",
    ["刃物", "包丁", "はさみ", "ハサミ", "工業用刃物", "機械刃物", "カッタ刃", "金物", "手道具", "工具製造", "刃付け", "研ぎ", "鍛冶"],
    ["食品工場で使う機械刃物の再研磨と製作をお願いしたい"], jsic=["242"])
# --- E 25-27 machinery ---
hint("machining", "259"); hint("cutting", "259"); hint("industrial_machinery", "251", "252", "253", "259", "261", "262", "263", "265")
hint("food_machinery", "264"); hint("machine_tools", "266"); hint("semiconductor", "267")
hint("special_machine", "269"); hint("mold", "269")
hint("medical_device", "274"); hint("optics", "275")
hint("calibration", "273", "297")  # instrument makers calibrate; a market concept of its own stole 計測/分析 head words
# --- E 28-30 electronics and electrical ---
hint("electronics_manufacturing", "281", "282", "285", "289"); hint("pcb_assembly", "284"); hint("pcb_design", "284")
hint("control_panel", "291"); hint("power_electronics", "292"); hint("electronics_market", "293", "302", "303")
hint("energy", "295"); hint("electronics_development", "296"); hint("electrical_assembly", "299"); hint("rf_design", "301")
add("lighting", "照明器具", "product",
    ["照明", "LED照明", "照明設計", "ライティング", "看板照明", "間接照明"],
    ["店舗用のLED照明器具を特注で作ってくれる会社を探しています"], jsic=["294"])
# --- E 31/32 transport equipment and other ---
hint("automotive", "311"); hint("railway", "312"); hint("shipbuilding", "313"); hint("aerospace", "314")
hint("conveyor", "315")
add("jewelry_accessories", "宝飾品・装身具", "product",
    ["宝飾", "宝飾品", "ジュエリ", "アクセサリ", "装身具", "貴金属加工", "指輪", "ペンダント", "ネックレス", "眼鏡枠", "メガネフレーム", "彫金", "ロストワックス鋳造"],
    ["オリジナルのアクセサリーを小ロットで製作してくれる工房を探しています"], jsic=["321", "322"])
add("lacquerware", "漆器・伝統工芸", "product",
    ["漆器", "漆塗り", "漆", "蒔絵", "螺鈿", "伝統工芸", "工芸品", "伝統的工芸品", "金箔押し", "箔押し"],
    ["漆塗りのノベルティを作ってくれる工房を探しています"], jsic=["327", "329"])
hint("mockup", "329")
# --- G 37-41 information and communications ---
hint("it_infrastructure", "371", "373", "392"); hint("business_system", "392"); hint("data_analysis", "392")
hint("web", "401"); hint("ec_site", "401"); hint("web_marketing", "401", "415"); hint("website_production", "401")
hint("video_production", "411", "416"); hint("animation", "411", "416"); hint("cg_3d", "416")
hint("graphic_design", "415"); hint("photography", "416")
add("audio_production", "音声・音響制作", "service",
    ["音声収録", "ナレーション", "ナレーション収録", "録音", "BGM制作", "作曲", "効果音", "音響", "音響制作", "音声ガイド",
     "ポッドキャスト", "ジングル"],
    ["工場紹介動画のナレーションを収録してくれる会社を探しています"], jsic=["412"])
add("publishing", "出版・編集", "service",
    ["出版", "自費出版", "編集制作", "記念誌", "社史", "周年誌", "書籍", "冊子制作", "広報誌", "社内報", "情報誌", "取材",
     "ライティング"],
    ["創業50周年の記念誌をつくりたい", "社史の取材から編集までお願いしたい"], jsic=["413", "414", "416"])
add("broadcasting", "放送・番組制作", "service",
    ["放送", "番組制作", "テレビ番組", "ラジオ番組", "CATV", "CM放送"],
    ["地元ケーブルテレビの番組で紹介してもらいたい"], broader=["video_production"], jsic=["381", "382", "383"])

with open(path, "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "concepts")
